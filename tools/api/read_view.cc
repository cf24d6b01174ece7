#include "tools/api/read_view.h"

namespace twinline::api {

Status BeginReadView(const EventLog& log, ReadView* view) {
  TWINLINE_RETURN_IF_ERROR(log.BeginRead(&view->txn));
  Status s;
  view->folder = NameFolder::Create(&s);
  if (view->folder == nullptr) return s;
  view->resolver = std::make_unique<LogEntityResolver>(view->txn.get(), view->folder.get());
  return Status::Ok();
}

}  // namespace twinline::api
