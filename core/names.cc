// Name folding on top of ICU. See names.h for the contract.
//
// Pipeline of one key (Fold below):
//   UTF-8 validation -> UTF-16 -> NFKC -> full case folding
//   [-> German transliteration ä/ö/ü/ß, IndexKeys' second key only]
//   -> NFD -> drop diacritic marks and default-ignorable code points -> NFC
//   -> separators collapsed to one ASCII space, trimmed -> UTF-8.
#include "core/names.h"

#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace twinline {
namespace {

// Checks that `s` is well-formed UTF-8. ICU's fromUTF8 would silently turn
// ill-formed bytes into U+FFFD, so two different byte strings could fold to
// the same key; we refuse them instead and name the first bad byte (0-based).
Status ValidateUtf8(std::string_view s) {
  // ICU indexes strings with int32_t; a name is never near that size.
  if (s.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Status::InvalidArgument("name is too long");
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t length = static_cast<int32_t>(s.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t start = i;
    UChar32 c;
    // U8_NEXT rejects overlongs, surrogates, truncated sequences and values
    // above U+10FFFF by returning a negative code point.
    U8_NEXT(bytes, i, length, c);
    if (c < 0) {
      return Status::InvalidArgument("name is not valid UTF-8 (byte " + std::to_string(start) +
                                     ")");
    }
  }
  return Status::Ok();
}

// Diacritics are stripped only from letters of scripts where a nonspacing
// mark is an optional accent on an alphabet letter (é, ς́, ё), and from marks
// that have no letter of their own (Common/Inherited bases, e.g. after a digit
// or at the start). In other scripts a nonspacing mark is part of the letter:
// Japanese dakuten (ガ = カ + U+3099), Devanagari vowel signs and virama (पुणे),
// Thai vowels. Dropping those would merge different names, which the contract
// rules out ("non-Latin scripts are kept as they are").
bool StripsMarksOf(UScriptCode script) {
  switch (script) {
    case USCRIPT_LATIN:
    case USCRIPT_GREEK:
    case USCRIPT_CYRILLIC:
    case USCRIPT_COMMON:
    case USCRIPT_INHERITED:
      return true;
    default:
      return false;
  }
}

bool IsMark(UChar32 c) { return (U_GET_GC_MASK(c) & U_GC_M_MASK) != 0; }

// A separator collapses into one space: anything ASCII that is not a letter or
// digit (punctuation, symbols, controls, ASCII space), any Unicode whitespace,
// any Unicode punctuation (P*: "·", "–", "“", "’"), and C1 controls.
bool IsSeparator(UChar32 c) {
  if (c < 0x80) {
    return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
  }
  return u_isUWhiteSpace(c) || u_ispunct(c) || u_charType(c) == U_CONTROL_CHAR;
}

// German transliteration, applied to case-folded NFKC text, so that only the
// precomposed lower-case letters remain to be handled: NFKC composed "a" +
// U+0308 into "ä", folding turned "Ä" into "ä" and "ß"/"ẞ" into "ss" already.
// ß is kept here so the rule reads as the contract states it.
icu::UnicodeString GermanTransliteration(const icu::UnicodeString& s) {
  icu::UnicodeString out;
  for (int32_t i = 0; i < s.length();) {
    const UChar32 c = s.char32At(i);
    i += U16_LENGTH(c);
    if (c == 0x00E4) {  // ä
      out.append(u"ae", 2);
    } else if (c == 0x00F6) {  // ö
      out.append(u"oe", 2);
    } else if (c == 0x00FC) {  // ü
      out.append(u"ue", 2);
    } else if (c == 0x00DF) {  // ß
      out.append(u"ss", 2);
    } else {
      out.append(c);
    }
  }
  return out;
}

}  // namespace

struct NameFolder::Impl {
  // Normalizer2 instances are owned by ICU's data cache (they must not be
  // deleted); the folder only keeps the looked-up pointers, so no ICU object is
  // created per call.
  const icu::Normalizer2* nfkc = nullptr;
  const icu::Normalizer2* nfd = nullptr;
  const icu::Normalizer2* nfc = nullptr;
  // ICU's Traditional-Simplified transliterator, made on first use (it takes
  // milliseconds to build, and most folders never need it).
  mutable std::unique_ptr<icu::Transliterator> to_simplified;

  // Folds one name into a key; `german` selects the transliterated variant.
  Status Fold(std::string_view name, bool german, std::string* key) const;
};

Status NameFolder::Impl::Fold(std::string_view name, bool german, std::string* key) const {
  TWINLINE_RETURN_IF_ERROR(ValidateUtf8(name));
  UErrorCode ec = U_ZERO_ERROR;
  icu::UnicodeString s = icu::UnicodeString::fromUTF8(
      icu::StringPiece(name.data(), static_cast<int32_t>(name.size())));

  // Compatibility forms first ("ﬁ" -> "fi", full-width "Ｄ" -> "D",
  // "a" + U+0308 -> "ä"), then full case folding ("ß" -> "ss", "Σ"/"ς" -> "σ",
  // "İ" -> "i" + U+0307).
  s = nfkc->normalize(s, ec);
  s.foldCase(U_FOLD_CASE_DEFAULT);
  if (german) s = GermanTransliteration(s);
  s = nfd->normalize(s, ec);
  if (U_FAILURE(ec)) {
    return Status::InvalidArgument(std::string("cannot normalize name: ") + u_errorName(ec));
  }

  // Drop diacritics (see StripsMarksOf) and default-ignorable code points
  // (soft hyphen, zero-width space, variation selectors, BOM), which are
  // invisible and would otherwise make identical-looking names differ.
  icu::UnicodeString stripped;
  UScriptCode base_script = USCRIPT_COMMON;
  for (int32_t i = 0; i < s.length();) {
    const UChar32 c = s.char32At(i);
    i += U16_LENGTH(c);
    if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) continue;
    if (IsMark(c)) {
      if (u_charType(c) == U_NON_SPACING_MARK && StripsMarksOf(base_script)) {
        continue;
      }
    } else {
      UErrorCode script_ec = U_ZERO_ERROR;
      base_script = uscript_getScript(c, &script_ec);
      if (U_FAILURE(script_ec)) base_script = USCRIPT_COMMON;
    }
    stripped.append(c);
  }
  s = nfc->normalize(stripped, ec);
  if (U_FAILURE(ec)) {
    return Status::InvalidArgument(std::string("cannot normalize name: ") + u_errorName(ec));
  }

  // Separators collapse into single spaces; leading/trailing ones vanish.
  icu::UnicodeString collapsed;
  bool pending_space = false;
  for (int32_t i = 0; i < s.length();) {
    const UChar32 c = s.char32At(i);
    i += U16_LENGTH(c);
    if (IsSeparator(c)) {
      pending_space = !collapsed.isEmpty();
      continue;
    }
    if (pending_space) collapsed.append(static_cast<UChar>(u' '));
    pending_space = false;
    collapsed.append(c);
  }
  if (collapsed.isEmpty()) {
    return Status::InvalidArgument("a name must not be empty");
  }
  key->clear();
  collapsed.toUTF8String(*key);
  return Status::Ok();
}

NameFolder::NameFolder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NameFolder::~NameFolder() = default;

std::unique_ptr<NameFolder> NameFolder::Create(Status* status) {
  auto impl = std::make_unique<Impl>();
  UErrorCode ec = U_ZERO_ERROR;
  impl->nfkc = icu::Normalizer2::getNFKCInstance(ec);
  impl->nfd = icu::Normalizer2::getNFDInstance(ec);
  impl->nfc = icu::Normalizer2::getNFCInstance(ec);
  if (U_FAILURE(ec) || impl->nfkc == nullptr || impl->nfd == nullptr || impl->nfc == nullptr) {
    if (status != nullptr) {
      *status =
          Status::IOError(std::string("cannot load ICU normalization data: ") + u_errorName(ec));
    }
    return nullptr;
  }
  if (status != nullptr) *status = Status::Ok();
  return std::unique_ptr<NameFolder>(new NameFolder(std::move(impl)));
}

Status NameFolder::QueryKey(std::string_view name, std::string* key) const {
  return impl_->Fold(name, /*german=*/false, key);
}

Status NameFolder::SimplifiedQueryKey(std::string_view name, std::string* key) const {
  key->clear();
  const bool han = std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0xE0; });
  if (!han) return Status::Ok();  // Han characters are three or four bytes long in UTF-8
  TWINLINE_RETURN_IF_ERROR(ValidateUtf8(name));
  if (impl_->to_simplified == nullptr) {
    UErrorCode ec = U_ZERO_ERROR;
    impl_->to_simplified.reset(icu::Transliterator::createInstance("Traditional-Simplified", UTRANS_FORWARD, ec));
    if (U_FAILURE(ec) || impl_->to_simplified == nullptr) {
      impl_->to_simplified.reset();
      return Status::IOError(std::string("cannot load ICU's Traditional-Simplified transform: ") + u_errorName(ec));
    }
  }
  icu::UnicodeString text = icu::UnicodeString::fromUTF8(icu::StringPiece(name.data(), static_cast<int32_t>(name.size())));
  const icu::UnicodeString before = text;
  impl_->to_simplified->transliterate(text);
  if (text == before) return Status::Ok();
  std::string simplified;
  text.toUTF8String(simplified);
  std::string plain, folded;
  TWINLINE_RETURN_IF_ERROR(impl_->Fold(name, /*german=*/false, &plain));
  TWINLINE_RETURN_IF_ERROR(impl_->Fold(simplified, /*german=*/false, &folded));
  if (folded != plain) *key = std::move(folded);
  return Status::Ok();
}

Status NameFolder::IndexKeys(std::string_view name, std::vector<std::string>* keys) const {
  std::string plain;
  TWINLINE_RETURN_IF_ERROR(impl_->Fold(name, /*german=*/false, &plain));
  std::string german;
  TWINLINE_RETURN_IF_ERROR(impl_->Fold(name, /*german=*/true, &german));
  keys->clear();
  keys->push_back(std::move(plain));
  if (german != keys->front()) keys->push_back(std::move(german));
  std::sort(keys->begin(), keys->end());
  return Status::Ok();
}

namespace {

// Counts the code points of `s`; an ill-formed sequence counts as one.
size_t CountCodePoints(std::string_view s) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t length = static_cast<int32_t>(s.size());
  size_t n = 0;
  for (int32_t i = 0; i < length; ++n) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    (void)c;
  }
  return n;
}

// Decodes one code point at *i. Ill-formed sequences (callers normally pass
// validated keys) become a value above U+10FFFF keyed by their first byte, so
// they compare equal only to the same bad byte, never to a real character.
UChar32 NextCodePoint(std::string_view s, int32_t* i) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t start = *i;
  UChar32 c;
  U8_NEXT(bytes, *i, static_cast<int32_t>(s.size()), c);
  return c >= 0 ? c : 0x110000 + bytes[start];
}

}  // namespace

// Inputs are names or keys (short); ICU's UTF-8 macros index with int32_t.
size_t EditDistance(std::string_view a, std::string_view b) {
  size_t n = CountCodePoints(a);
  size_t m = CountCodePoints(b);
  // Keep one row over the shorter string: O(min(n, m)) memory. The longer
  // string is decoded on the fly, not stored.
  if (n < m) {
    std::swap(a, b);
    std::swap(n, m);
  }
  if (m == 0) return n;
  std::vector<UChar32> shorter;
  shorter.reserve(m);
  for (int32_t i = 0; i < static_cast<int32_t>(b.size());) {
    shorter.push_back(NextCodePoint(b, &i));
  }
  // row[j] = distance between the consumed prefix of `a` and shorter[0, j).
  std::vector<size_t> row(m + 1);
  for (size_t j = 0; j <= m; ++j) row[j] = j;
  int32_t ai = 0;
  for (size_t r = 1; r <= n; ++r) {
    const UChar32 ca = NextCodePoint(a, &ai);
    size_t diagonal = row[0];  // row[j - 1] of the previous row
    row[0] = r;
    for (size_t j = 1; j <= m; ++j) {
      const size_t above = row[j];
      const size_t substitute = diagonal + (ca == shorter[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[m];
}

bool IsEntitySlug(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  if (s.front() == '-' || s.back() == '-') return false;
  char previous = '\0';
  for (const char c : s) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!allowed) return false;
    if (c == '-' && previous == '-') return false;
    previous = c;
  }
  return true;
}

}  // namespace twinline
