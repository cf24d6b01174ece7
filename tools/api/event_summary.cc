#include "tools/api/event_summary.h"

#include "core/kinds.h"
#include "core/schema_names.h"

namespace twinline::api {

// Each kind's summary is in its row of the kind table (core/kinds.h).
std::string SummarizeEvent(schema::Event::Reader ev) { return Summary(ev.getPayload()); }

std::string SummarizeEffective(schema::Event::Reader ev) {
  if (!ev.getPayload().isAmendment()) return SummarizeEvent(ev);
  return Summary(ev.getPayload().getAmendment().getReplacement()) + " (as amended)";
}

std::optional<EdgeRow::Kind> EdgeKindOf(schema::Payload::Reader payload) {
  if (payload.isAmendment()) payload = payload.getAmendment().getReplacement();
  const KindSpec* kind = FindKind(payload.which());
  if (kind == nullptr) return std::nullopt;
  switch (kind->feed) {
    case Feed::kPartnershipEdge:
      return EdgeRow::Kind::kPartnership;
    case Feed::kRouteEdge:
      return EdgeRow::Kind::kRoute;
    case Feed::kNothing:
    case Feed::kCounters:
    case Feed::kReport:
    case Feed::kTrade:
      return std::nullopt;
  }
  return std::nullopt;
}

Status CountSources(const ReadTxn& txn, schema::Event::Reader ev, uint64_t* count) {
  *count = ev.getSources().size();
  if (ev.getPayload().isCorroboration()) return Status::Ok();
  const std::string id = ev.getId();
  return txn.ScanReferences(id, [&](schema::Event::Reader ref) {
    if (ref.getPayload().isCorroboration()) *count += ref.getSources().size();
    return true;
  });
}

std::string QualifierSymbol(std::string_view qualifier) {
  const capnp::EnumSchema schema = capnp::Schema::from<schema::Qualifier>();
  for (auto enumerant : schema.getEnumerants()) {
    if (EnumerantName(schema, enumerant.getOrdinal()) == qualifier) {
      return QualifierWord(static_cast<schema::Qualifier>(enumerant.getOrdinal()));
    }
  }
  return QualifierWord(schema::Qualifier::EXACT);
}

Status CollectSources(const ReadTxn& txn, const std::vector<uint64_t>& seqs,
                      std::vector<SourceRef>* out) {
  for (uint64_t seq : seqs) {
    TWINLINE_RETURN_IF_ERROR(txn.Get(seq, [&](schema::Event::Reader ev) {
      for (auto s : ev.getSources()) {
        out->push_back({s.getTitle(), s.getPublisher(), s.getPublished(), s.getLanguage(),
                        s.getUrl(), s.getQuote(), ev.getId()});
      }
    }));
  }
  return Status::Ok();
}

Status SourcesBehind(const ReadTxn& txn, uint64_t seq, uint64_t known_seq,
                     std::vector<SourceRef>* out) {
  std::vector<uint64_t> seqs = {seq};
  std::string id;
  TWINLINE_RETURN_IF_ERROR(EventIdAt(txn, seq, &id));
  TWINLINE_RETURN_IF_ERROR(txn.ScanReferences(id, [&](schema::Event::Reader ref) {
    if (ref.getSeq() <= known_seq && ref.getPayload().isCorroboration()) {
      seqs.push_back(ref.getSeq());
    }
    return true;
  }));
  return CollectSources(txn, seqs, out);
}

std::string DescribeSource(const SourceRef& s) {
  return s.title + " — " + s.publisher + ", " + s.published + " (" + s.language + ")" +
         (s.url.empty() ? "" : " " + s.url);
}

Status EventIdAt(const ReadTxn& txn, uint64_t seq, std::string* id) {
  return txn.Get(seq, [&](schema::Event::Reader ev) { *id = ev.getId(); });
}

}  // namespace twinline::api
