// Keeping the temporal index with the log (docs/INDEX.md §4): the
// IndexMaintainer the writer calls, and the index's own verbs — describe,
// rebuild, drop, verify.
#include <algorithm>
#include <cstring>
#include <set>

#include "projections/index.h"

namespace twinline {

namespace ix = projection_internal::index;
using projection_internal::IndexBuilder;
using projection_internal::IndexSections;

namespace {

// How long the tail may grow before the writer merges it into the index.
uint64_t TailLimit(uint64_t base) { return std::max<uint64_t>(4096, base / 64); }

// The stored index's B, if one is stored.
Status StoredBase(const ReadTxn& txn, std::optional<uint64_t>* base) {
  base->reset();
  std::string_view header;
  Status st = txn.GetDerived(ix::kHeader, &header);
  if (st.code() == Status::Code::kNotFound) return Status::Ok();
  TWINLINE_RETURN_IF_ERROR(st);
  if (header.size() != sizeof(ix::Header)) return Status::Ok();  // damaged: rebuilt
  ix::Header h;
  std::memcpy(&h, header.data(), sizeof h);
  if (h.format == ix::kIndexFormat) *base = h.base_seq;
  return Status::Ok();
}

class TemporalIndexMaintainer final : public IndexMaintainer {
 public:
  Status Observe(schema::Event::Reader ev) override {
    if (!observed_) observed_ = std::make_unique<IndexBuilder>();
    observed_->Add(ev);
    return Status::Ok();
  }

  Status BeforeCommit(DerivedWriteTxn& txn, uint64_t first_seq, uint64_t last_seq,
                      bool streamed) override {
    std::unique_ptr<IndexBuilder> observed = std::move(observed_);
    if (last_seq < first_seq) return Status::Ok();  // nothing appended
    std::optional<uint64_t> base;
    TWINLINE_RETURN_IF_ERROR(StoredBase(txn, &base));
    if (base && *base <= last_seq && last_seq - *base <= TailLimit(*base)) return Status::Ok();
    IndexSections sections;
    if (streamed && observed) {
      // The batch's events were seen as they were written; the ones before
      // it are read from the log.
      Status inner;
      TWINLINE_RETURN_IF_ERROR(txn.Scan(1, first_seq - 1, [&](schema::Event::Reader ev) {
        observed->Add(ev);
        return true;
      }));
      TWINLINE_RETURN_IF_ERROR(observed->Finish(txn, last_seq, &sections));
    } else {
      TWINLINE_RETURN_IF_ERROR(projection_internal::BuildIndexFromLog(txn, last_seq, &sections));
    }
    return projection_internal::StoreIndex(txn, sections);
  }

  void Abandon() override { observed_.reset(); }

 private:
  std::unique_ptr<IndexBuilder> observed_;  // a streamed batch's events
};

void Describe(const ix::Header& h, IndexInfo* info) {
  info->present = true;
  info->base_seq = h.base_seq;
  info->entities = h.entities;
  info->edges = h.edges;
  info->edge_facts = h.edge_facts;
  info->counter_facts = h.counter_facts;
  info->report_keys = h.report_keys;
  info->report_facts = h.report_facts;
  info->trade_keys = h.trade_keys;
  info->trade_facts = h.trade_facts;
  info->corrections = h.corrections;
  info->breakpoints = h.breakpoints;
}

}  // namespace

std::shared_ptr<IndexMaintainer> NewIndexMaintainer() {
  return std::make_shared<TemporalIndexMaintainer>();
}

Status DescribeIndex(const ReadTxn& txn, IndexInfo* info) {
  *info = IndexInfo();
  info->log_seq = txn.LastSeq();
  std::string_view header;
  Status st = txn.GetDerived(ix::kHeader, &header);
  if (st.code() == Status::Code::kNotFound) return Status::Ok();
  TWINLINE_RETURN_IF_ERROR(st);
  if (header.size() == sizeof(ix::Header)) {
    ix::Header h;
    std::memcpy(&h, header.data(), sizeof h);
    Describe(h, info);
  }
  return txn.ListDerived([&](std::string_view key, size_t size) {
    info->sections.emplace_back(std::string(key), size);
    info->bytes += size;
    return true;
  });
}

Status RebuildIndex(DerivedWriteTxn& txn, IndexInfo* info) {
  IndexSections sections;
  TWINLINE_RETURN_IF_ERROR(projection_internal::BuildIndexFromLog(txn, txn.LastSeq(), &sections));
  TWINLINE_RETURN_IF_ERROR(projection_internal::StoreIndex(txn, sections));
  if (info != nullptr) TWINLINE_RETURN_IF_ERROR(DescribeIndex(txn, info));
  return Status::Ok();
}

Status DropIndex(DerivedWriteTxn& txn) { return txn.ClearDerived(); }

Status VerifyIndex(const ReadTxn& txn, IndexInfo* info) {
  IndexInfo local;
  IndexInfo& described = info != nullptr ? *info : local;
  TWINLINE_RETURN_IF_ERROR(DescribeIndex(txn, &described));
  if (described.sections.empty()) return Status::Ok();  // none stored
  std::unique_ptr<projection_internal::IndexView> view;
  TWINLINE_RETURN_IF_ERROR(projection_internal::IndexView::Open(txn, &view));
  IndexSections rebuilt;
  TWINLINE_RETURN_IF_ERROR(projection_internal::BuildIndexFromLog(txn, view->base_seq(), &rebuilt));
  std::set<std::string> stored;
  for (const auto& [name, size] : described.sections) stored.insert(name);
  for (const auto& [name, bytes] : rebuilt) {
    std::string_view have;
    Status st = txn.GetDerived(name, &have);
    if (!st.ok() || have != bytes) {
      return Status::Corruption("the temporal index differs from the log in section '" + name +
                                "'; rebuild it with `twinline index --rebuild`");
    }
    stored.erase(name);
  }
  if (!stored.empty()) {
    return Status::Corruption("the temporal index has a section the log does not explain ('" +
                              *stored.begin() + "'); rebuild it with `twinline index --rebuild`");
  }
  return Status::Ok();
}

}  // namespace twinline
