// `twinline entities [NAME]`: every registered entity as a table, or one
// entity — found by slug or by any of its names, as event files refer to
// it — in detail. An unknown or ambiguous NAME fails with the resolver's
// message (close candidates, or every match).
#include <CLI/CLI.hpp>
#include <limits>

#include "events/json_codec.h"
#include "tools/api/json_views.h"
#include "tools/api/read_view.h"
#include "tools/api/text_layout.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string NamesText(const Json& j) {
  std::string out;
  for (const auto& name : j.value("names", Json::array())) {
    if (!out.empty()) out += ", ";
    out += name.value("text", "") + " (" + name.value("lang", "") + ")";
  }
  return out;
}

std::string LocationText(const Json& j) {
  auto it = j.find("location");
  if (it == j.end() || !it->is_object()) return "-";
  return api::FormatNumber(it->value("lat", 0.0)) + ", " + api::FormatNumber(it->value("lon", 0.0));
}

Status ListAll(Context& ctx, const ReadTxn& txn, bool json) {
  Json array;
  TWINLINE_RETURN_IF_ERROR(api::EntitiesJson(txn, &array));
  if (json) {
    *ctx.out << api::DumpJson(array) << '\n';
    return Status::Ok();
  }
  api::Table table({"SLUG", "TYPE", "COUNTRY", "NAMES"});
  for (const Json& j : array) {
    table.AddRow({j.value("slug", ""), j.value("type", ""), j.value("country", ""), NamesText(j)});
  }
  table.Print(*ctx.out);
  return Status::Ok();
}

Status ShowOne(Context& ctx, const api::ReadView& snap, const std::string& slug, bool json) {
  Json j;
  TWINLINE_RETURN_IF_ERROR(api::EntityDetailJson(*snap.txn, slug, &j));
  const uint64_t events = j.value("events", uint64_t{0});
  if (json) {
    *ctx.out << api::DumpJson(j) << '\n';
    return Status::Ok();
  }
  api::PrintFields(*ctx.out,
                   {{"slug", slug},
                    {"type", j.value("type", "")},
                    {"country", j.value("country", "").empty() ? "-" : j.value("country", "")},
                    {"location", LocationText(j)},
                    {"parent", j.value("parent", "").empty() ? "-" : j.value("parent", "")},
                    {"names", NamesText(j)},
                    {"registered", "seq " + std::to_string(j.value("seq", uint64_t{0})) + " (" +
                                       j.value("id", "") + ")"},
                    {"events", std::to_string(events)}});
  return Status::Ok();
}

}  // namespace

Handler ConfigureEntities(CLI::App& cmd) {
  auto name = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("table");
  cmd.add_option("NAME", *name, "show this entity (slug or any registered name)");
  cmd.add_option("--format", *format, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  return [name, format](Context& ctx) -> Status {
    api::ReadView snap;
    TWINLINE_RETURN_IF_ERROR(api::BeginReadView(*ctx.log, &snap));
    const bool json = *format == "json";
    if (name->empty()) return ListAll(ctx, *snap.txn, json);
    std::string slug;
    TWINLINE_RETURN_IF_ERROR(snap.resolver->Resolve(*name, &slug));
    return ShowOne(ctx, snap, slug, json);
  };
}

}  // namespace twinline::cli
