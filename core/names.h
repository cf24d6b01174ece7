// Name folding for entity lookup: how twinline decides that "Düsseldorf",
// "Duesseldorf", "DUSSELDORF" and "duesseldorf" name the same city.
//
// Contract:
//  * QueryKey(name) is the key a user's query is looked up under: Unicode
//    NFKC, full case folding, diacritics removed (NFD, drop Mn marks),
//    ASCII punctuation, '-', '_' and runs of whitespace collapsed to one space,
//    trimmed. Non-Latin scripts are kept as they are after folding
//    ("重庆" -> "重庆"): twinline matches them through the names registered for
//    an entity in that language, not through transliteration.
//  * IndexKeys(name) are the keys a registered name is stored under: always
//    QueryKey(name), plus the German transliteration when it differs
//    (ä->ae, ö->oe, ü->ue, ß->ss, before diacritics are dropped), so that
//    "Düsseldorf" is found as "dusseldorf" and as "duesseldorf". Keys are
//    unique and sorted.
//  * SimplifiedQueryKey(name) is QueryKey of the name written in Simplified
//    Chinese characters (ICU's Traditional-Simplified transform: 重慶 ->
//    重庆), or empty when that changes nothing. Lookups try it after
//    QueryKey, so a Traditional spelling finds a name registered in
//    Simplified; stored keys are not affected.
//  * Invalid UTF-8 is reported as kInvalidArgument, never passed through.
//  * EditDistance is the Levenshtein distance over Unicode code points, used
//    to suggest close candidates for an unknown name.
//
// Diacritics are dropped only from Latin, Greek and Cyrillic letters (and
// script-less characters): in other scripts a combining mark is part of the
// letter (ギ is not キ). Default-ignorable code points (soft hyphen,
// zero-width space) are dropped too.
//
// A NameFolder owns ICU normalizers: create one per
// thread (it is not thread-safe), reuse it for many calls.
#ifndef TWINLINE_CORE_NAMES_H_
#define TWINLINE_CORE_NAMES_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace twinline {

class NameFolder {
 public:
  // Returns nullptr and sets *status if ICU data cannot be loaded.
  static std::unique_ptr<NameFolder> Create(Status* status);
  ~NameFolder();
  NameFolder(const NameFolder&) = delete;
  NameFolder& operator=(const NameFolder&) = delete;

  Status QueryKey(std::string_view name, std::string* key) const;
  Status SimplifiedQueryKey(std::string_view name, std::string* key) const;
  Status IndexKeys(std::string_view name, std::vector<std::string>* keys) const;

 private:
  struct Impl;
  explicit NameFolder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

size_t EditDistance(std::string_view a, std::string_view b);

// True for an entity id slug: 1-64 of [a-z0-9-], not starting or ending with '-', no "--".
bool IsEntitySlug(std::string_view s);

}  // namespace twinline

#endif  // TWINLINE_CORE_NAMES_H_
