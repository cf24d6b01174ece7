// EventDecoder (events/json_codec.h): its simdjson fast path must change
// speed only. Every input here is decoded three ways, by one decoder reused
// across all of them (as import drives it), by DecodeEventText (a fresh
// decoder) and by DecodeEvent on nlohmann's own parse (the exact path), and
// all three must agree: the same status, field and message, and for an
// accepted event the same canonical bytes.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "events/json_codec.h"

namespace twinline {
namespace {

class SlugResolver : public EntityResolver {
 public:
  Status Resolve(std::string_view ref, std::string* id) override {
    for (std::string_view slug : {"chengdu", "montpellier", "eu", "wuxi", "db-cargo"}) {
      if (ref == slug) {
        id->assign(ref);
        return Status::Ok();
      }
    }
    if (ref == "Chengdu") {
      *id = "chengdu";
      return Status::Ok();
    }
    return Status::NotFound("unknown entity '" + std::string(ref) + "'");
  }
};

struct Outcome {
  Status status;
  std::string bytes;  // canonical encoding of an accepted event
};

std::string Canonical(schema::Event::Reader ev) {
  kj::Array<capnp::word> words = capnp::canonicalize(ev);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

template <typename Fn>
Outcome DecodeWith(Fn decode) {
  capnp::MallocMessageBuilder message;
  Outcome o;
  o.status = decode(message.initRoot<schema::Event>());
  if (o.status.ok()) o.bytes = Canonical(message.getRoot<schema::Event>().asReader());
  return o;
}

constexpr char kSource[] =
    R"({"title":"T","publisher":"P","published":"2025-04-17","language":"en"})";

std::string Ev(const std::string& fields) {
  return R"({"date":"2024-06-12",)" + fields + R"(,"sources":[)" + kSource + "]}";
}

// Inputs chosen where simdjson and nlohmann could read differently: numbers
// at the edges of their types, escapes, duplicates, nesting, odd shapes.
std::vector<std::string> Inputs() {
  const std::string trade =
      R"("kind":"trade_volume_reported","reporter":"chengdu","partner":"eu","period":"2024","currency":"EUR","flow":"total",)";
  const std::string forum = R"("kind":"forum_held","host":"wuxi","name":"Forum",)";
  std::vector<std::string> inputs = {
      Ev(R"("kind":"partnership_established","a":"montpellier","b":"Chengdu","partnership":"sister_city")"),
      Ev(R"("kind":"partnership_established","a":"chengdu","b":"Chengdu","partnership":"sister_city")"),
      Ev(R"("kind":"route_opened","from":"chengdu","to":"chengdu","mode":"rail")"),
      Ev(R"("kind":"agreement_signed","parties":["eu","chengdu","Chengdu"],"title":"T","agreement":"memorandum")"),
      Ev(R"("kind":"agreement_signed","parties":["chengdu","Chengdu"],"title":"T","agreement":"memorandum")"),
      Ev(trade + R"("amount":-0)"),
      Ev(trade + R"("amount":-0.0)"),
      Ev(trade + R"("amount":1e308)"),
      Ev(trade + R"("amount":1e400)"),
      Ev(trade + R"("amount":18446744073709551615)"),
      Ev(trade + R"("amount":18446744073709551616)"),
      Ev(trade + R"("amount":-9223372036854775809)"),
      Ev(trade + R"("amount":0.1e1)"),
      Ev(trade + R"("amount":123456789012345678901234567890)"),
      Ev(trade + R"("amount":"12")"),
      Ev(forum + R"("edition":-0)"),
      Ev(forum + R"("edition":3.0)"),
      Ev(forum + R"("edition":4294967296)"),
      Ev(forum + R"("edition":18446744073709551616)"),
      Ev(forum + R"("edition":-1)"),
      Ev(forum + R"("attendance":[{"label":"guests","value":100,"qualifier":"nearly"}])"),
      Ev(forum + R"("attendance":[{"label":"guests","value":100,"label":"x"}])"),
      Ev(forum + R"("attendance":[])"),
      Ev(forum + R"("note":"a\u0000b")"),
      Ev(forum + R"("note":"\ud800")"),
      Ev(forum + R"("note":"\ud83d\ude84 \u00e9")"),
      Ev(forum + R"("name":"twice")"),
      Ev(forum + R"("colour":1,"zebra":2,"apple":3)"),
      Ev(forum +
         R"("note":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]])"),
      Ev(R"("kind":"entity_registered","entity":"x-1","type":"bloc","names":[{"text":"X","lang":"en"}],"parent":"nowhere")"),
      Ev(R"("kind":"entity_registered","entity":"x-1","type":"city","names":[{"text":"X","lang":"e"}],"country":"CN","location":{"lat":91,"lon":0})"),
      Ev(R"("kind":"entity_registered","entity":"x-1","type":"city","names":[{"text":"X","lang":"en"}],"country":"CN","location":{"lat":-0,"lon":180})"),
      Ev(R"("kind":"count_reported","entity":"chengdu","metric":"partner_cities","value":241,"scope":"eu")"),
      Ev(R"("kind":"count_reported","entity":"chengdu","metric":"Partner","value":241)"),
      R"({"kind":"amendment","target":"ev-1","reason":"r","replacement":{"kind":"route_opened","date":"2011","from":"chengdu","to":"eu","mode":"rail"},"sources":[)" +
          std::string(kSource) + "]}",
      R"({"kind":"amendment","date":"2012","target":"ev-1","reason":"r","replacement":{"kind":"route_opened","date":"2011","from":"chengdu","to":"eu","mode":"rail"},"sources":[)" +
          std::string(kSource) + "]}",
      R"({"kind":"amendment","target":"ev-1","reason":"r","replacement":{"kind":"retraction","date":"2011"},"sources":[)" +
          std::string(kSource) + "]}",
      R"({"kind":"retraction","date":"2024","target":"ev-1","reason":"r","sources":[]})",
      R"({"kind":"retraction","date":"2024","target":"ev 1","reason":"r","sources":[)" +
          std::string(kSource) + "]}",
      R"({"kind":"retraction","date":"2024","target":"ev-1","reason":"r","id":"","sources":[)" +
          std::string(kSource) + "]}",
      R"({"kind":"retraction","date":"2021-02-30","target":"ev-1","reason":"r","sources":[)" +
          std::string(kSource) + "]}",
      R"({"kind":"retraction","date":"2024","target":"ev-1","reason":"r","sources":[{"title":"T","publisher":"P","published":"2025","language":"en","url":"u","quote":"q","x":1}]})",
      R"({"kind":"retraction","date":"2024","target":"ev-1","reason":"r","sources":[)" +
          std::string(kSource) + R"(],"seq":7,"recorded_at":"2025-04-17T08:45:00.000001Z"})",
      R"({"kind":"nothing"})",
      R"({"kind":1})",
      R"({})",
      R"([])",
      R"("text")",
      R"({"kind":"forum_held",)",
      R"({"kind":"forum_held"} trailing)",
      "",
      "  ",
  };
  return inputs;
}

TEST(EventDecoderTest, FastAndExactPathsAgreeOnEveryInput) {
  SlugResolver resolver;
  for (bool restore : {false, true}) {
    DecodeOptions options;
    options.restore = restore;
    EventDecoder reused(resolver, options);
    for (const std::string& input : Inputs()) {
      SCOPED_TRACE(input + (restore ? " (restore)" : ""));
      const Outcome fast =
          DecodeWith([&](schema::Event::Builder out) { return reused.Decode(input, out); });
      const Outcome fresh = DecodeWith([&](schema::Event::Builder out) {
        return DecodeEventText(input, resolver, options, out);
      });
      EXPECT_EQ(fast.status.ToString(), fresh.status.ToString());
      EXPECT_EQ(fast.bytes, fresh.bytes);
      nlohmann::json j = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) {
        EXPECT_FALSE(fast.status.ok());  // a syntax error: the exact path's message
        continue;
      }
      const Outcome exact =
          DecodeWith([&](schema::Event::Builder out) { return DecodeEvent(j, resolver, options, out); });
      if (input.find("\\ud800") != std::string::npos ||
          input.find("\"twice\"") != std::string::npos ||
          input.find("[[[[[[") != std::string::npos ||
          input.find("\"label\":\"x\"") != std::string::npos) {
        // nlohmann's own parse keeps the last duplicate and any depth; the
        // decoder's exact pass refuses both, as the fast path must.
        EXPECT_FALSE(fast.status.ok());
        continue;
      }
      EXPECT_EQ(fast.status.ToString(), exact.status.ToString());
      EXPECT_EQ(fast.bytes, exact.bytes);
    }
  }
}

TEST(EventDecoderTest, ReusedDecoderKeepsNothingFromTheLineBefore) {
  SlugResolver resolver;
  EventDecoder decoder(resolver);
  // A refused line, then a good one into a fresh builder, then the good one
  // again: the good one decodes the same every time.
  const std::string good = Ev(
      R"("kind":"route_opened","from":"chengdu","to":"eu","mode":"rail","name":"China-Europe Railway Express")");
  const std::string bad = Ev(
      R"("kind":"route_opened","from":"chengdu","to":"Chengdu","mode":"rail","operator":"db-cargo")");
  const Outcome first = DecodeWith([&](schema::Event::Builder out) { return decoder.Decode(good, out); });
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  const Outcome refused = DecodeWith([&](schema::Event::Builder out) { return decoder.Decode(bad, out); });
  EXPECT_EQ(refused.status.field(), "to");
  EXPECT_EQ(refused.status.message(), "names the same entity as from ('chengdu')");
  const Outcome again = DecodeWith([&](schema::Event::Builder out) { return decoder.Decode(good, out); });
  EXPECT_EQ(again.bytes, first.bytes);
}

TEST(EventDecoderTest, SameEntityRuleHasOneWordingForPartnershipsAndRoutes) {
  SlugResolver resolver;
  EventDecoder decoder(resolver);
  const Outcome partnership = DecodeWith([&](schema::Event::Builder out) {
    return decoder.Decode(
        Ev(R"("kind":"partnership_ended","a":"Chengdu","b":"chengdu","partnership":"other")"), out);
  });
  EXPECT_EQ(partnership.status.ToString(),
            "invalid argument: b: names the same entity as a ('chengdu')");
  const Outcome route = DecodeWith([&](schema::Event::Builder out) {
    return decoder.Decode(Ev(R"("kind":"route_closed","from":"eu","to":"eu","mode":"sea")"), out);
  });
  EXPECT_EQ(route.status.ToString(), "invalid argument: to: names the same entity as from ('eu')");
}

}  // namespace
}  // namespace twinline
