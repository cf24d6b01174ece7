// LogEntityResolver: see entity_resolver.h for the contract.
//
// Lookup order for a reference:
//   1. a slug registered in the log, or pending in this batch, is itself;
//   2. its folded query key (core/names.h) looked up among the pending keys
//      and the log's `names` table, then, if nothing is found, its
//      Simplified Chinese key: one slug resolves, several are ambiguous;
//   3. nothing: kNotFound with up to kMaxSuggestions close candidates.
#include "events/entity_resolver.h"

#include <algorithm>
#include <cstdint>
#include <tuple>

#include "core/event_log.h"
#include "schemas/twinline.capnp.h"

namespace twinline {
namespace {

constexpr size_t kMaxSuggestions = 5;

size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

// `ref` quoted as an error message shows it: at most 200 bytes (cut at a
// code point), then how long it was.
std::string Quoted(std::string_view ref) {
  constexpr size_t kMax = 200;
  if (ref.size() <= kMax) return "'" + std::string(ref) + "'";
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(ref[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(ref.substr(0, cut)) + "…' (" + std::to_string(ref.size()) + " bytes)";
}

}  // namespace

LogEntityResolver::LogEntityResolver(const ReadTxn* txn, const NameFolder* folder)
    : txn_(txn), folder_(folder) {}

Status LogEntityResolver::AddPending(std::string_view id, const std::vector<std::string>& names) {
  std::vector<std::string> all_keys;
  // The slug is indexed like a name, as the log does (docs/FORMAT.md, `names`),
  // so "qingdao port" finds "qingdao-port".
  TWINLINE_RETURN_IF_ERROR(folder_->IndexKeys(id, &all_keys));
  for (const std::string& name : names) {
    std::vector<std::string> keys;
    TWINLINE_RETURN_IF_ERROR(folder_->IndexKeys(name, &keys));
    all_keys.insert(all_keys.end(), keys.begin(), keys.end());
  }
  std::string slug(id);
  pending_ids_.insert(slug);
  for (const std::string& key : all_keys) pending_keys_[key].insert(slug);
  if (!names.empty()) pending_display_.emplace(slug, names.front());
  return Status::Ok();
}

namespace {

// The first registered name of `slug` in the log, or "" when unavailable.
std::string LoggedDisplayName(const ReadTxn* txn, std::string_view slug) {
  if (txn == nullptr) return "";
  uint64_t seq = 0;
  if (!txn->FindEntity(slug, &seq).ok()) return "";
  std::string name;
  Status s = txn->Get(seq, [&](schema::Event::Reader ev) {
    auto payload = ev.getPayload();
    if (payload.isEntityRegistered()) {
      auto names = payload.getEntityRegistered().getNames();
      if (names.size() > 0) name = names[0].getText();
    }
  });
  return s.ok() ? name : "";
}

// "duesseldorf (Düsseldorf)": a slug with its first registered name.
std::string Describe(const ReadTxn* txn, const std::map<std::string, std::string>& pending_display,
                     const std::string& slug) {
  std::string name;
  if (auto it = pending_display.find(slug); it != pending_display.end()) {
    name = it->second;
  } else {
    name = LoggedDisplayName(txn, slug);
  }
  return name.empty() ? slug : slug + " (" + name + ")";
}

}  // namespace

Status LogEntityResolver::Resolve(std::string_view ref, std::string* id) {
  // 1. An id slug is itself, before any name lookup (a slug may also fold to
  //    some other entity's name key; the slug wins).
  if (pending_ids_.find(ref) != pending_ids_.end() || logged_ids_.find(ref) != logged_ids_.end()) {
    id->assign(ref);
    return Status::Ok();
  }
  if (txn_ != nullptr && IsEntitySlug(ref)) {
    uint64_t seq = 0;
    Status s = txn_->FindEntity(ref, &seq);
    if (s.ok()) {
      logged_ids_.emplace(ref);
      id->assign(ref);
      return Status::Ok();
    }
    if (s.code() != Status::Code::kNotFound) return s;
  }

  // 2. Exact folded key.
  std::string key;
  TWINLINE_RETURN_IF_ERROR(folder_->QueryKey(ref, &key));
  if (key.empty()) return Status::InvalidArgument("empty entity reference");
  std::set<std::string> found;
  auto lookup = [&](const std::string& k) -> Status {
    if (auto it = pending_keys_.find(k); it != pending_keys_.end()) {
      found.insert(it->second.begin(), it->second.end());
    }
    if (txn_ != nullptr) {
      std::vector<std::string> slugs;
      Status s = txn_->LookupNameKey(k, &slugs);
      if (!s.ok() && s.code() != Status::Code::kNotFound) return s;
      found.insert(slugs.begin(), slugs.end());
    }
    return Status::Ok();
  };
  TWINLINE_RETURN_IF_ERROR(lookup(key));
  if (found.empty()) {
    // A Traditional Chinese spelling (重慶) of a name registered in
    // Simplified characters (重庆).
    std::string simplified;
    TWINLINE_RETURN_IF_ERROR(folder_->SimplifiedQueryKey(ref, &simplified));
    if (!simplified.empty()) TWINLINE_RETURN_IF_ERROR(lookup(simplified));
  }
  if (found.size() == 1) {
    *id = *found.begin();
    return Status::Ok();
  }
  if (found.size() > 1) {
    std::string msg = "ambiguous entity " + Quoted(ref) + ": could be ";
    bool first = true;
    for (const std::string& slug : found) {
      if (!first) msg += ", ";
      first = false;
      msg += Describe(txn_, pending_display_, slug);
    }
    return Status::InvalidArgument(msg);
  }

  // 3. Unknown: suggest close keys (a typo) and longer keys that start with
  //    the query (a partial name), best first.
  const size_t len = CodePointCount(key);
  const size_t threshold = std::max<size_t>(2, len / 4);
  std::map<std::string, size_t> best;  // slug -> smallest distance
  bool any_registered = false;
  auto consider = [&](std::string_view candidate_key, std::string_view slug) {
    any_registered = true;
    const bool prefix = candidate_key.substr(0, key.size()) == key;
    // Lengths further apart than the threshold are further apart in edit
    // distance too: skip the O(n*m) distance (a 16 KB query against every
    // name key would cost seconds).
    const size_t candidate_len = CodePointCount(candidate_key);
    if (!prefix && std::max(len, candidate_len) - std::min(len, candidate_len) > threshold) return;
    const size_t distance = EditDistance(key, candidate_key);
    if (distance > threshold && !prefix) return;
    auto [it, inserted] = best.emplace(std::string(slug), distance);
    if (!inserted) it->second = std::min(it->second, distance);
  };
  for (const auto& [pending_key, slugs] : pending_keys_) {
    for (const std::string& slug : slugs) consider(pending_key, slug);
  }
  if (txn_ != nullptr) {
    Status s = txn_->ListNameKeys([&](std::string_view k, std::string_view slug) {
      consider(k, slug);
      return true;
    });
    if (!s.ok()) return s;
  }

  std::string msg = "unknown entity " + Quoted(ref);
  if (!any_registered) {
    msg += "; no entity is registered yet (register one with an entity_registered event)";
    return Status::NotFound(msg);
  }
  std::vector<std::pair<size_t, std::string>> ranked;
  for (const auto& [slug, distance] : best) ranked.emplace_back(distance, slug);
  std::sort(ranked.begin(), ranked.end());
  if (ranked.size() > kMaxSuggestions) ranked.resize(kMaxSuggestions);
  if (!ranked.empty()) {
    msg += "; did you mean: ";
    for (size_t i = 0; i < ranked.size(); ++i) {
      if (i > 0) msg += ", ";
      msg += Describe(txn_, pending_display_, ranked[i].second);
    }
    msg += "?";
  }
  return Status::NotFound(msg);
}

}  // namespace twinline
