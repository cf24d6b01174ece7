// Tests for core/names.h: query and index keys, UTF-8 validation, edit
// distance and entity slugs.
#include "core/names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace twinline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class NameFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status status;
    folder_ = NameFolder::Create(&status);
    ASSERT_TRUE(status.ok()) << status.ToString();
    ASSERT_NE(folder_, nullptr);
  }

  // The query key of `name`, or "<error: ...>" so a failure shows in the diff.
  std::string Key(std::string_view name) const {
    std::string key;
    Status status = folder_->QueryKey(name, &key);
    if (!status.ok()) return "<error: " + status.message() + ">";
    return key;
  }

  std::vector<std::string> Index(std::string_view name) const {
    std::vector<std::string> keys;
    Status status = folder_->IndexKeys(name, &keys);
    if (!status.ok()) return {"<error: " + status.message() + ">"};
    return keys;
  }

  std::unique_ptr<NameFolder> folder_;
};

TEST_F(NameFolderTest, FoldsUmlautBothWays) {
  EXPECT_EQ(Key("Düsseldorf"), "dusseldorf");
  EXPECT_EQ(Key("DUSSELDORF"), "dusseldorf");
  EXPECT_EQ(Key("dusseldorf"), "dusseldorf");
  EXPECT_EQ(Key("Duesseldorf"), "duesseldorf");
  EXPECT_THAT(Index("Düsseldorf"), ElementsAre("duesseldorf", "dusseldorf"));
  EXPECT_THAT(Index("Köln"), ElementsAre("koeln", "koln"));
  EXPECT_THAT(Index("Zürich"), ElementsAre("zuerich", "zurich"));
  // Every spelling a user may type hits one of the index keys.
  const std::vector<std::string> keys = Index("Düsseldorf");
  for (std::string_view query :
       {"Düsseldorf", "DÜSSELDORF", "Duesseldorf", "DUESSELDORF", "Dusseldorf"}) {
    EXPECT_THAT(keys, ::testing::Contains(Key(query))) << query;
  }
}

TEST_F(NameFolderTest, TransliteratesUpperCaseAndDecomposedUmlauts) {
  EXPECT_THAT(Index("DÜSSELDORF"), ElementsAre("duesseldorf", "dusseldorf"));
  EXPECT_THAT(Index("ÖSTERREICH"), ElementsAre("oesterreich", "osterreich"));
  EXPECT_THAT(Index("Ärzte"), ElementsAre("aerzte", "arzte"));
  // "u" + U+0308 COMBINING DIAERESIS is composed by NFKC before transliteration.
  EXPECT_EQ(Key("Du\u0308sseldorf"), "dusseldorf");
  EXPECT_THAT(Index("Du\u0308sseldorf"), ElementsAre("duesseldorf", "dusseldorf"));
}

TEST_F(NameFolderTest, FoldsSharpSToDoubleS) {
  EXPECT_EQ(Key("Straße"), "strasse");
  EXPECT_EQ(Key("STRASSE"), "strasse");
  EXPECT_EQ(Key("STRAẞE"), "strasse");  // U+1E9E capital sharp s
  // Full case folding already yields "ss", so there is a single key.
  EXPECT_THAT(Index("Straße"), ElementsAre("strasse"));
  EXPECT_THAT(Index("Gießen"), ElementsAre("giessen"));
}

TEST_F(NameFolderTest, KeepsPlainAsciiNamesLowerCased) {
  EXPECT_EQ(Key("Montpellier"), "montpellier");
  EXPECT_EQ(Key("Tianfu New District"), "tianfu new district");
  EXPECT_THAT(Index("Chongqing"), ElementsAre("chongqing"));
  EXPECT_THAT(Index("Montpellier"), ElementsAre("montpellier"));
}

TEST_F(NameFolderTest, CollapsesPunctuationAndWhitespace) {
  EXPECT_EQ(Key("  Antwerp-Bruges "), "antwerp bruges");
  EXPECT_EQ(Key("Tianfu   New\t\tDistrict\n"), "tianfu new district");
  EXPECT_EQ(Key("St. Gallen"), "st gallen");
  EXPECT_EQ(Key("L'Aquila"), "l aquila");
  EXPECT_EQ(Key("L’Aquila"), "l aquila");  // U+2019 is punctuation too
  EXPECT_EQ(Key("Stratford_upon--Avon"), "stratford upon avon");
  EXPECT_EQ(Key("Aix–en–Provence"), "aix en provence");  // en dash
  EXPECT_EQ(Key("“Paris”"), "paris");
  EXPECT_EQ(Key("Bosnia & Herzegovina (BiH)"), "bosnia herzegovina bih");
  EXPECT_EQ(Key("a/b,c\"d"), "a b c d");
  EXPECT_EQ(Key("Tianfu·New"), "tianfu new");  // U+00B7 middle dot
  // Unicode whitespace without a compatibility mapping to U+0020.
  EXPECT_EQ(Key("Chengdu\u1680Tianfu"), "chengdu tianfu");
  // No-break and ideographic spaces (NFKC maps them to U+0020).
  EXPECT_EQ(Key("Chengdu\u00A0\u3000Tianfu"), "chengdu tianfu");
}

TEST_F(NameFolderTest, StripsLatinDiacritics) {
  EXPECT_EQ(Key("São Paulo"), "sao paulo");
  EXPECT_EQ(Key("Besançon"), "besancon");
  EXPECT_EQ(Key("Île-de-France"), "ile de france");
  EXPECT_EQ(Key("Kraków"), "krakow");
  EXPECT_EQ(Key("Zürich"), "zurich");
  EXPECT_EQ(Key("Hà Nội"), "ha noi");  // stacked Vietnamese marks
  EXPECT_EQ(Key("Tōkyō"), "tokyo");
  // Letters without a decomposition keep their shape: no transliteration.
  EXPECT_EQ(Key("København"), "københavn");
  EXPECT_EQ(Key("Łódź"), "łodz");
  EXPECT_EQ(Key("Đà Nẵng"), "đa nang");
}

TEST_F(NameFolderTest, FoldsTurkishCapitalDottedI) {
  // Default (non-Turkic) full folding maps U+0130 to "i" + U+0307; the dot is
  // a combining mark and is dropped, so İstanbul meets ISTANBUL.
  EXPECT_EQ(Key("İstanbul"), "istanbul");
  EXPECT_EQ(Key("ISTANBUL"), "istanbul");
  EXPECT_EQ(Key("İZMİR"), "izmir");
  // Dotless ı has no decomposition and no default folding: it stays.
  EXPECT_EQ(Key("Diyarbakır"), "diyarbakır");
}

TEST_F(NameFolderTest, KeepsCjkAsIs) {
  EXPECT_EQ(Key("重庆"), "重庆");
  EXPECT_EQ(Key("重慶"), "重慶");  // traditional stays traditional
  EXPECT_NE(Key("重庆"), Key("重慶"));
  EXPECT_THAT(Index("重庆"), ElementsAre("重庆"));
  EXPECT_EQ(Key("東京都"), "東京都");
  EXPECT_EQ(Key("서울"), "서울");  // Hangul syllables decompose and recompose
}

TEST_F(NameFolderTest, KeepsMarksThatArePartOfNonLatinLetters) {
  // Dakuten: ギ is キ + U+3099 under NFD; dropping it would merge two names.
  EXPECT_EQ(Key("ぎふ"), "ぎふ");
  EXPECT_NE(Key("ぎふ"), Key("きふ"));
  // Half-width katakana become full-width under NFKC, voiced mark composed.
  EXPECT_EQ(Key("ｷﾞﾌ"), "ギフ");
  // Devanagari vowel signs (Mn) stay.
  EXPECT_EQ(Key("पुणे"), "पुणे");
  EXPECT_EQ(Key("กรุงเทพ"), "กรุงเทพ");
}

TEST_F(NameFolderTest, FoldsCyrillic) {
  EXPECT_EQ(Key("Москва"), "москва");
  EXPECT_EQ(Key("МОСКВА"), "москва");
  // Cyrillic diacritics are stripped like Latin ones: ё meets е.
  EXPECT_EQ(Key("Орёл"), "орел");
  EXPECT_EQ(Key("Орёл"), Key("Орел"));
  EXPECT_THAT(Index("Москва"), ElementsAre("москва"));
}

TEST_F(NameFolderTest, FoldsGreekFinalSigmaAndTonos) {
  // Final ς and capital Σ both fold to σ; the tonos is dropped.
  EXPECT_EQ(Key("Οδυσσεύς"), "οδυσσευσ");
  EXPECT_EQ(Key("ΟΔΥΣΣΕΥΣ"), "οδυσσευσ");
  EXPECT_EQ(Key("Αθήνα"), "αθηνα");
  EXPECT_EQ(Key("ΑΘΗΝΑ"), "αθηνα");
}

TEST_F(NameFolderTest, AppliesCompatibilityNormalization) {
  EXPECT_EQ(Key("ﬁrenze"), "firenze");          // U+FB01 ligature
  EXPECT_EQ(Key("Ｄüsseldorf"), "dusseldorf");  // full-width D
  EXPECT_EQ(Key("Ⅳ"), "iv");                    // roman numeral
  EXPECT_EQ(Key("①"), "1");
}

TEST_F(NameFolderTest, DropsInvisibleCharacters) {
  EXPECT_EQ(Key("Düssel\u00ADdorf"), "dusseldorf");  // soft hyphen
  EXPECT_EQ(Key("Düssel\u200Bdorf"), "dusseldorf");  // zero-width space
  EXPECT_EQ(Key("\uFEFFChengdu"), "chengdu");        // byte order mark
  EXPECT_EQ(Key("葛\U000E0100城"), "葛城");          // ideographic variation
}

TEST_F(NameFolderTest, FoldsMixedScriptNames) {
  EXPECT_EQ(Key("Chengdu 成都"), "chengdu 成都");
  EXPECT_EQ(Key("Tianfu·天府"), "tianfu 天府");
  EXPECT_EQ(Key("Москва-City"), "москва city");
  EXPECT_EQ(Key("Thessaloníki Θεσσαλονίκη"), "thessaloniki θεσσαλονικη");
  EXPECT_THAT(Index("Köln 科隆"), ElementsAre("koeln 科隆", "koln 科隆"));
}

TEST_F(NameFolderTest, RejectsEmptyName) {
  for (std::string_view name : {"", " ", "\t\n", "-_.", "  -- ", "“”·–", "\u0301", "\u00AD"}) {
    std::string key = "unchanged";
    Status status = folder_->QueryKey(name, &key);
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << name;
    EXPECT_EQ(status.message(), "a name must not be empty") << name;
    std::vector<std::string> keys;
    EXPECT_EQ(folder_->IndexKeys(name, &keys).code(), Status::Code::kInvalidArgument) << name;
  }
}

TEST_F(NameFolderTest, RejectsInvalidUtf8WithOffset) {
  struct Case {
    std::string_view name;
    int offset;
  };
  const Case cases[] = {
      {"\xff\xfe", 0},
      {"K\xc3\xb6ln\xc3", 5},  // truncated 2-byte sequence at the end
      {"ab\xe6\x88", 2},       // truncated 3-byte sequence
      {"a\xc0\xaf"
       "b",
       1},                            // overlong "/"
      {"\xe0\x80\xaf", 0},            // overlong 3-byte
      {"x\xed\xa0\x80", 1},           // UTF-16 surrogate D800
      {"\xf4\x90\x80\x80", 0},        // above U+10FFFF
      {"ab\x80", 2},                  // lone continuation byte
      {"D\xc3\xbcsseldorf\xfe", 11},  // valid "ü", bad byte after
  };
  for (const Case& c : cases) {
    std::string key;
    Status status = folder_->QueryKey(c.name, &key);
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(status.message(), "name is not valid UTF-8 (byte " + std::to_string(c.offset) + ")");
    std::vector<std::string> keys;
    Status index_status = folder_->IndexKeys(c.name, &keys);
    EXPECT_EQ(index_status.code(), Status::Code::kInvalidArgument);
    EXPECT_THAT(index_status.message(), HasSubstr("not valid UTF-8"));
  }
}

TEST_F(NameFolderTest, QueryKeyIsIdempotent) {
  for (std::string_view name : {"Düsseldorf", "  Antwerp-Bruges ", "İstanbul", "Οδυσσεύς", "ﬁrenze",
                                "重慶", "ｷﾞﾌ", "पुणे", "Łódź", "Tianfu·天府", "STRAẞE"}) {
    const std::string once = Key(name);
    EXPECT_EQ(Key(once), once) << name;
  }
}

TEST_F(NameFolderTest, IndexKeysAreSortedUniqueAndContainQueryKey) {
  for (std::string_view name :
       {"Düsseldorf", "Köln", "Chongqing", "重庆", "Straße", "Über Öl Ära"}) {
    const std::vector<std::string> keys = Index(name);
    ASSERT_FALSE(keys.empty());
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end())) << name;
    EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end()) << name;
    EXPECT_THAT(keys, ::testing::Contains(Key(name))) << name;
  }
  EXPECT_THAT(Index("Über Öl Ära"), ElementsAre("uber ol ara", "ueber oel aera"));
}

TEST_F(NameFolderTest, ReusesOneFolderForManyCalls) {
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(Key("Düsseldorf"), "dusseldorf");
  }
}

TEST(EditDistanceTest, CountsCodePointsNotBytes) {
  EXPECT_EQ(EditDistance("dusseldorf", "düsseldorf"), 1u);  // ü is 2 bytes
  EXPECT_EQ(EditDistance("重庆", "重慶"), 1u);              // 3 bytes each
  EXPECT_EQ(EditDistance("", "重庆"), 2u);
  EXPECT_EQ(EditDistance("москва", "масква"), 1u);
  EXPECT_EQ(EditDistance("a😀b", "ab"), 1u);  // 4-byte emoji
  EXPECT_EQ(EditDistance("😀", "😁"), 1u);
}

TEST(EditDistanceTest, SuggestsCloseCandidates) {
  EXPECT_EQ(EditDistance("dusseldorff", "dusseldorf"), 1u);
  EXPECT_EQ(EditDistance("dusseldorf", "dusseldorff"), 1u);
  EXPECT_EQ(EditDistance("chengdu", "chongqing"), 5u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("sitting", "kitten"), 3u);
}

TEST(EditDistanceTest, HandlesEmptyAndEqualStrings) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("koln", ""), 4u);
  EXPECT_EQ(EditDistance("", "köln"), 4u);
  EXPECT_EQ(EditDistance("köln", "köln"), 0u);
}

TEST(EditDistanceTest, TreatsInvalidBytesAsSingleUnits) {
  // Not expected from QueryKey output, but must not crash or read past the end.
  EXPECT_EQ(EditDistance("ab\xff", "ab"), 1u);
  EXPECT_EQ(EditDistance("ab\xff", "ab\xff"), 0u);
  EXPECT_EQ(EditDistance("ab\xff", "ab\xfe"), 1u);
  EXPECT_EQ(EditDistance("a\xc3", "a\xc3\xbc"), 1u);  // truncated vs "ü"
}

TEST(EntitySlugTest, AcceptsLowercaseLettersDigitsAndInnerHyphens) {
  EXPECT_TRUE(IsEntitySlug("chengdu"));
  EXPECT_TRUE(IsEntitySlug("tianfu-new-district"));
  EXPECT_TRUE(IsEntitySlug("eu"));
  EXPECT_TRUE(IsEntitySlug("a1"));
  EXPECT_TRUE(IsEntitySlug("x"));
  EXPECT_TRUE(IsEntitySlug("2024"));
  EXPECT_TRUE(IsEntitySlug(std::string(64, 'a')));
}

TEST(EntitySlugTest, RejectsEmptyAndTooLong) {
  EXPECT_FALSE(IsEntitySlug(""));
  EXPECT_FALSE(IsEntitySlug(std::string(65, 'a')));
}

TEST(EntitySlugTest, RejectsMisplacedOrDoubledHyphens) {
  EXPECT_FALSE(IsEntitySlug("-x"));
  EXPECT_FALSE(IsEntitySlug("x-"));
  EXPECT_FALSE(IsEntitySlug("-"));
  EXPECT_FALSE(IsEntitySlug("a--b"));
}

TEST(EntitySlugTest, RejectsCharactersOutsideLowercaseAscii) {
  EXPECT_FALSE(IsEntitySlug("Chengdu"));
  EXPECT_FALSE(IsEntitySlug("chéngdu"));
  EXPECT_FALSE(IsEntitySlug("a_b"));
  EXPECT_FALSE(IsEntitySlug("a b"));
  EXPECT_FALSE(IsEntitySlug("a.b"));
  EXPECT_FALSE(IsEntitySlug(std::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace twinline

namespace twinline {
namespace {

TEST(NamesTest, SimplifiedQueryKeyOfTraditionalChinese) {
  Status status;
  std::unique_ptr<NameFolder> folder = NameFolder::Create(&status);
  ASSERT_NE(folder, nullptr) << status.ToString();
  std::string key;
  ASSERT_TRUE(folder->SimplifiedQueryKey("重慶", &key).ok());
  EXPECT_EQ(key, "重庆");
  ASSERT_TRUE(folder->SimplifiedQueryKey("重庆", &key).ok());
  EXPECT_EQ(key, "");  // already Simplified: nothing new to try
  ASSERT_TRUE(folder->SimplifiedQueryKey("Düsseldorf", &key).ok());
  EXPECT_EQ(key, "");
}

}  // namespace
}  // namespace twinline
