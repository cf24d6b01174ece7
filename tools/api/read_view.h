// The read every API request runs on: one consistent snapshot of the log (a
// ReadTxn) with an entity resolver over it, so a name in a request ("重庆",
// "Duesseldorf") resolves against the same log state the answer is read
// from. The CLI verbs and the HTTP routes begin one per request.
//
// Not to be confused with twinline::Snapshot (projections/projection.h), the
// replayed state of the network on a date; a ReadView is what that replay
// reads from.
//
// Contract:
//  * BeginReadView opens a read transaction on `log` (EventLog::BeginRead:
//    any number in parallel, never blocked by the writer) and fills `view`;
//    on failure `view` holds nothing usable.
//  * Members are destroyed in reverse order, so the resolver never outlives
//    the transaction it reads. `log` must outlive the view; a view belongs
//    to one thread at a time.
#ifndef TWINLINE_TOOLS_API_READ_VIEW_H_
#define TWINLINE_TOOLS_API_READ_VIEW_H_

#include <memory>

#include "core/event_log.h"
#include "core/names.h"
#include "core/status.h"
#include "events/entity_resolver.h"

namespace twinline::api {

struct ReadView {
  std::unique_ptr<ReadTxn> txn;
  std::unique_ptr<NameFolder> folder;
  std::unique_ptr<LogEntityResolver> resolver;
};

Status BeginReadView(const EventLog& log, ReadView* view);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_READ_VIEW_H_
