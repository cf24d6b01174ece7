#include "tools/api/event_summary.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "events/json_codec.h"
#include "tools/api/text_layout.h"

namespace twinline::api {

// Event summaries, built from the JSON form so that enumerations read exactly
// as users write them in files ("sister_city", "air_cargo").

namespace {

using Json = nlohmann::ordered_json;

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return FormatNumber(it->get<double>());
  return it->dump();
}

// "sister_city" -> "sister city".
std::string Words(std::string s) {
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

std::string Ordinal(uint64_t n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

std::string JoinStrings(const Json& array) {
  std::string out;
  if (!array.is_array()) return out;
  for (const auto& item : array) {
    if (!out.empty()) out += ", ";
    out += item.is_string() ? item.get<std::string>() : item.dump();
  }
  return out;
}

std::string WithSuffix(const std::string& prefix, const std::string& value) {
  return value.empty() ? "" : prefix + value;
}

std::string QualifierWord(const std::string& q) {
  if (q == "approximately") return "≈";
  if (q == "nearly") return "nearly";
  if (q == "more_than") return ">";
  if (q == "at_least") return "≥";
  return "=";
}

}  // namespace

std::string SummarizeEvent(schema::Event::Reader ev) {
  const Json j = EncodeEvent(ev);
  const std::string kind = Str(j, "kind");
  if (kind == "entity_registered") {
    std::string name;
    if (auto it = j.find("names"); it != j.end() && it->is_array() && !it->empty()) {
      name = Str((*it)[0], "text");
    }
    const std::string country = Str(j, "country");
    return Str(j, "entity") + ": " + Str(j, "type") + " " + name +
           (country.empty() ? "" : " (" + country + ")");
  }
  if (kind == "partnership_established" || kind == "partnership_ended") {
    return Str(j, "a") + " — " + Str(j, "b") + " (" + Words(Str(j, "partnership")) + ")" +
           (kind == "partnership_ended" ? " ended" : "") + WithSuffix(": ", Str(j, "detail"));
  }
  if (kind == "agreement_signed") {
    return JoinStrings(j.value("parties", Json::array())) + ": " + Str(j, "title") + " (" +
           Words(Str(j, "agreement")) + ")";
  }
  if (kind == "forum_held") {
    std::string edition;
    if (auto it = j.find("edition"); it != j.end() && it->is_number() && it->get<double>() > 0) {
      edition = Ordinal(it->get<uint64_t>()) + " ";
    }
    return Str(j, "host") + ": " + edition + Str(j, "name") + WithSuffix(" in ", Str(j, "venue"));
  }
  if (kind == "route_opened" || kind == "route_closed") {
    return Str(j, "from") + " → " + Str(j, "to") + " (" + Words(Str(j, "mode")) + ")" +
           WithSuffix(": ", Str(j, "name")) + (kind == "route_closed" ? " closed" : "");
  }
  if (kind == "office_opened") {
    return Str(j, "owner") + ": " + Str(j, "name") + " in " + Str(j, "host");
  }
  if (kind == "organisation_founded") {
    return Str(j, "founder") + " founded " + Str(j, "organisation") +
           WithSuffix(": ", Str(j, "purpose"));
  }
  if (kind == "award_granted") {
    return Str(j, "grantor") + " → " + Str(j, "recipient") + ": " + Str(j, "name");
  }
  if (kind == "trade_volume_reported") {
    return Str(j, "reporter") + " → " + Str(j, "partner") + " trade " + Str(j, "period") + ": " +
           Str(j, "amount") + " " + Str(j, "currency") + " " + Str(j, "flow");
  }
  if (kind == "count_reported") {
    return Str(j, "entity") + " reports " + Str(j, "metric") + " " +
           QualifierWord(Str(j, "qualifier")) + " " + Str(j, "value") +
           WithSuffix(" in ", Str(j, "scope"));
  }
  if (kind == "initiative_launched") {
    return Str(j, "owner") + " launched " + Str(j, "name") +
           WithSuffix(" with ", JoinStrings(j.value("partners", Json::array())));
  }
  if (kind == "retraction")
    return "retracts " + Str(j, "target") + WithSuffix(": ", Str(j, "reason"));
  if (kind == "amendment") return "amends " + Str(j, "target") + WithSuffix(": ", Str(j, "reason"));
  if (kind == "corroboration") return "corroborates " + Str(j, "target");
  return kind;
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
  return QualifierWord(std::string(qualifier));
}

Status EventIdAt(const ReadTxn& txn, uint64_t seq, std::string* id) {
  return txn.Get(seq, [&](schema::Event::Reader ev) { *id = ev.getId(); });
}

}  // namespace twinline::api
