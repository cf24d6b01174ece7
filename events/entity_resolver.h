// EntityResolver: turns an entity reference as a user writes it (an id slug
// such as "duesseldorf", or any registered name such as "Düsseldorf",
// "Duesseldorf", "重庆") into the id slug twinline stores.
//
// Contract:
//  * Resolve returns OK and sets *id, or kNotFound ("unknown entity
//    'Dusseldorff'; did you mean: duesseldorf (Düsseldorf)?") or
//    kInvalidArgument for an ambiguous name, listing every candidate.
//  * A reference that is a registered slug resolves to itself before any
//    name lookup.
//
// LogEntityResolver answers from a log snapshot plus the entities registered
// earlier in the batch being decoded (AddPending), so a file may register an
// entity on one line and use it by name on the next.
#ifndef TWINLINE_EVENTS_ENTITY_RESOLVER_H_
#define TWINLINE_EVENTS_ENTITY_RESOLVER_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/names.h"
#include "core/status.h"

namespace twinline {

class ReadTxn;

class EntityResolver {
 public:
  virtual ~EntityResolver() = default;
  virtual Status Resolve(std::string_view ref, std::string* id) = 0;
};

class LogEntityResolver : public EntityResolver {
 public:
  // `txn` may be null (an empty or absent log); when set it is borrowed and
  // must outlive this resolver. `folder` is borrowed likewise.
  LogEntityResolver(const ReadTxn* txn, const NameFolder* folder);

  Status Resolve(std::string_view ref, std::string* id) override;

  // Makes an entity registered earlier in the current batch resolvable.
  Status AddPending(std::string_view id, const std::vector<std::string>& names);

 private:
  // Looked up by string_view, without building a string.
  struct SlugHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using SlugSet = std::unordered_set<std::string, SlugHash, std::equal_to<>>;

  const ReadTxn* txn_;
  const NameFolder* folder_;
  // Slugs that resolve to themselves: registered earlier in this batch, or
  // found in the log (remembered, so a slug costs one hash lookup after its
  // first use; the snapshot cannot lose an entity). Looked up for every
  // reference.
  SlugSet pending_ids_;
  SlugSet logged_ids_;
  std::map<std::string, std::set<std::string>> pending_keys_;  // folded key -> ids
  std::map<std::string, std::string> pending_display_;         // id -> first name
};

}  // namespace twinline

#endif  // TWINLINE_EVENTS_ENTITY_RESOLVER_H_
