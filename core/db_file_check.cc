#include "core/db_file_check.h"

#include <lmdb.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdarg>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>

#include "core/lmdb_env.h"

namespace twinline {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the LMDB layout read here is little-endian (see db_file_check.h)");

// LMDB 0.9's constants (mdb.c), for data format version 1.
constexpr uint32_t kMagic = 0xBEEFC0DE;
constexpr uint32_t kDataVersion = 1;
constexpr size_t kPageHeader = 16;
constexpr size_t kMetaEnd = kPageHeader + 136;  // the page header and MDB_meta
constexpr size_t kNodeHeader = 8;
constexpr size_t kDbRecordSize = 48;
constexpr uint64_t kNoPage = ~uint64_t{0};  // P_INVALID
constexpr uint16_t kBranchPage = 0x01, kLeafPage = 0x02, kMetaPage = 0x08;
constexpr uint16_t kBigData = 0x01, kSubData = 0x02, kDupData = 0x04;
constexpr uint16_t kDbFlags = 0x7E;     // MDB_REVERSEKEY .. MDB_REVERSEDUP
constexpr uint16_t kIntegerKey = 0x08;  // the free-page table's only flag
constexpr uint16_t kMaxDepth = 32;      // LMDB's cursor stack
constexpr uint32_t kMinPageSize = 512, kMaxPageSize = 65536;
constexpr size_t kMaxMainPages = 4096;  // a directory of named tables is a few pages
constexpr int kAttempts = 8;            // reads while writers commit

uint16_t U16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
uint32_t U32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
uint64_t U64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

// A table name as the user may see it: bytes outside printable ASCII as \xNN.
std::string Printable(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += Format("\\x%02x", c);
    }
  }
  return out;
}

// MDB_db: one B-tree's record.
struct DbRecord {
  uint32_t pad = 0;
  uint16_t flags = 0, depth = 0;
  uint64_t branch = 0, leaf = 0, overflow = 0, entries = 0, root = kNoPage;

  static DbRecord Parse(const char* p) {
    DbRecord d;
    d.pad = U32(p);
    d.flags = U16(p + 4);
    d.depth = U16(p + 6);
    d.branch = U64(p + 8);
    d.leaf = U64(p + 16);
    d.overflow = U64(p + 24);
    d.entries = U64(p + 32);
    d.root = U64(p + 40);
    return d;
  }
  // Pages of the tree, saturating (a damaged count must not wrap around).
  uint64_t pages() const {
    const uint64_t cap = uint64_t{1} << 62;
    return std::min(branch, cap) + std::min(leaf, cap) + std::min(overflow, cap);
  }
};

// A meta page's header and MDB_meta.
struct Meta {
  uint64_t pgno = 0;
  uint16_t page_flags = 0;
  uint32_t magic = 0, version = 0;
  uint64_t address = 0, mapsize = 0;
  DbRecord free, main;
  uint64_t last_page = 0, txnid = 0;

  static Meta Parse(const char* p) {
    Meta m;
    m.pgno = U64(p);
    m.page_flags = U16(p + 10);
    m.magic = U32(p + 16);
    m.version = U32(p + 20);
    m.address = U64(p + 24);
    m.mapsize = U64(p + 32);
    m.free = DbRecord::Parse(p + 40);
    m.main = DbRecord::Parse(p + 88);
    m.last_page = U64(p + 136);
    m.txnid = U64(p + 144);
    return m;
  }
  uint32_t page_size() const { return free.pad; }
};

// The problem with a B-tree record (`what` names the tree), or "".
std::string RecordProblem(const DbRecord& d, const std::string& what, bool free_table,
                          uint64_t last_page) {
  if (free_table ? d.flags != kIntegerKey : (d.flags & ~kDbFlags) != 0) {
    return Format("%s has flags 0x%x, which LMDB never writes", what.c_str(), d.flags);
  }
  if (d.root == kNoPage) {
    if (d.depth != 0 || d.pages() != 0 || d.entries != 0) {
      return Format("%s has no root page but says depth %u, %" PRIu64 " pages, %" PRIu64
                    " entries",
                    what.c_str(), d.depth, d.pages(), d.entries);
    }
    return "";
  }
  if (d.root < 2 || d.root > last_page) {
    return Format("%s has root page %" PRIu64 ", outside the pages in use (2..%" PRIu64 ")",
                  what.c_str(), d.root, last_page);
  }
  if (d.depth == 0 || d.depth > kMaxDepth) {
    return Format("%s has a root page but depth %u", what.c_str(), d.depth);
  }
  if (d.entries == 0 || d.leaf == 0 || (d.depth == 1) != (d.branch == 0) ||
      d.branch < d.depth - 1u) {
    return Format("%s says depth %u, %" PRIu64 " branch and %" PRIu64 " leaf pages, %" PRIu64
                  " entries: not a possible tree",
                  what.c_str(), d.depth, d.branch, d.leaf, d.entries);
  }
  if (d.pages() > last_page - 1) {
    return Format("%s says it holds %" PRIu64 " pages, more than the %" PRIu64 " in use",
                  what.c_str(), d.pages(), last_page - 1);
  }
  return "";
}

// The problem with B-tree page `pgno` (a branch page when `branch`),
// phrased to follow its name, or "".
std::string PageProblem(const std::string& page, uint64_t pgno, bool branch, uint32_t page_size,
                      uint64_t last_page) {
  const char* p = page.data();
  const uint64_t own = U64(p);
  const uint16_t flags = U16(p + 10), lower = U16(p + 12), upper = U16(p + 14);
  if (own != pgno) {
    return Format("carries page number %" PRIu64 ": it is not the page LMDB wrote there", own);
  }
  const uint16_t want = branch ? kBranchPage : kLeafPage;
  if (flags != want) {
    return Format("has flags 0x%x where a %s page has 0x%x", flags, branch ? "branch" : "leaf",
                  want);
  }
  if (lower < kPageHeader || lower > upper || upper > page_size ||
      (lower - kPageHeader) % 2 != 0) {
    return Format("has free space bounds %u..%u, impossible in a page of %u bytes", lower,
                  upper, page_size);
  }
  const size_t nodes = (lower - kPageHeader) / 2;
  if (nodes < (branch ? 2u : 1u)) return Format("holds %zu nodes", nodes);
  for (size_t i = 0; i < nodes; ++i) {
    const size_t at = U16(p + kPageHeader + 2 * i);
    if (at < upper || at % 2 != 0 || at + kNodeHeader > page_size) {
      return Format("has node %zu at offset %zu, outside its node area %u..%u", i, at, upper,
                    page_size);
    }
    const char* node = p + at;
    const uint16_t lo = U16(node), hi = U16(node + 2), node_flags = U16(node + 4);
    const size_t key_end = at + kNodeHeader + U16(node + 6);
    if (key_end > page_size) return Format("has node %zu whose key runs past the page", i);
    if (branch) {
      const uint64_t child = lo | (uint64_t{hi} << 16) | (uint64_t{node_flags} << 32);
      if (child < 2 || child > last_page) {
        return Format("points at page %" PRIu64 ", outside the pages in use (2..%" PRIu64 ")",
                      child, last_page);
      }
      continue;
    }
    if ((node_flags & ~(kBigData | kSubData | kDupData)) != 0) {
      return Format("has node %zu with flags 0x%x", i, node_flags);
    }
    if (node_flags & kBigData) {
      if (key_end + 8 > page_size) return Format("has node %zu running past the page", i);
      const uint64_t first = U64(p + key_end);
      if (first < 2 || first > last_page) {
        return Format("has node %zu whose value starts on page %" PRIu64
                      ", outside the pages in use (2..%" PRIu64 ")",
                      i, first, last_page);
      }
    } else if (key_end + (lo | (size_t{hi} << 16)) > page_size) {
      return Format("has node %zu whose value runs past the page", i);
    }
  }
  return "";
}


class Checker {
 public:
  Checker(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  Status Run(DataFileFacts* facts) {
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(attempt));
      std::string before;
      Status st = ReadMetas(&before);
      if (st.ok()) st = CheckMetas(before, facts);
      if (!st.ok()) {
        // Damage, or a meta page read while a writer wrote it: read again.
        std::string again;
        const Status again_status = ReadMetas(&again);
        if (!again_status.ok()) return again_status;
        if (again == before) return st;
        continue;
      }
      std::vector<std::string> tables;
      st = CheckPages(&tables);
      std::string after;
      if (!ReadMetas(&after).ok() || after != before) continue;  // a writer committed meanwhile
      if (!st.ok()) return st;
      facts->tables = std::move(tables);
      facts->tables_checked = true;
      return Status::Ok();
    }
    // Writers never paused for long enough: the meta pages passed, the
    // pages below them are left to LMDB.
    return Status::Ok();
  }

 private:
  Status Damaged(const std::string& what) const {
    return Status::Corruption("data file '" + path_ + "' is damaged: " + what +
                              ". It was not opened and nothing was written to it; restore the "
                              "database from a backup (`twinline backup` makes one)");
  }

  // Both meta pages' header and MDB_meta, back to back (2 x kMetaEnd bytes).
  Status ReadMetas(std::string* out) {
    struct stat st;
    if (fstat(fd_, &st) != 0) return Errno("cannot stat");
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ == 0) {
      return Damaged(
          "it is empty (0 bytes), though LMDB writes its two meta pages the moment it creates "
          "one: the file was cut short or never written. If this directory never held a "
          "database, remove data.mdb and run `twinline init`");
    }
    out->assign(2 * kMetaEnd, '\0');
    if (size_ < kMetaEnd) return TooShort(size_);
    TWINLINE_RETURN_IF_ERROR(ReadAt(0, out->data(), kMetaEnd));
    const uint32_t page_size = Meta::Parse(out->data()).page_size();
    if (!ValidPageSize(page_size)) return Status::Ok();  // CheckMetas names it
    if (size_ < uint64_t{page_size} + kMetaEnd) return TooShort(size_);
    return ReadAt(page_size, out->data() + kMetaEnd, kMetaEnd);
  }

  static bool ValidPageSize(uint32_t size) {
    return size >= kMinPageSize && size <= kMaxPageSize && std::has_single_bit(size);
  }

  Status TooShort(uint64_t size) const {
    return Damaged(Format("it is %" PRIu64
                          " bytes long, too short to hold LMDB's two meta pages: the file was "
                          "cut short",
                          size));
  }

  Status CheckMetas(const std::string& raw, DataFileFacts* facts) {
    Meta meta[2] = {Meta::Parse(raw.data()), Meta::Parse(raw.data() + kMetaEnd)};
    for (int i = 0; i < 2; ++i) {
      const Meta& m = meta[i];
      const std::string name = Format("meta page %d", i);
      if (m.page_flags != kMetaPage || m.pgno != static_cast<uint64_t>(i)) {
        return Damaged(Format("%s is not one (its header says page %" PRIu64 ", flags 0x%x)",
                              name.c_str(), m.pgno, m.page_flags));
      }
      if (m.magic != kMagic) {
        return Damaged(Format("%s has magic number 0x%08x, not LMDB's 0x%08x", name.c_str(),
                              m.magic, kMagic));
      }
      if (m.version != kDataVersion) {
        return Damaged(Format("%s says LMDB data format version %u; LMDB 0.9 writes version %u",
                              name.c_str(), m.version, kDataVersion));
      }
      if (!ValidPageSize(m.page_size())) {
        return Damaged(Format("%s gives a page size of %u bytes", name.c_str(), m.page_size()));
      }
      if (m.page_size() != meta[0].page_size()) {
        return Damaged(Format("meta page 0 gives a page size of %u bytes, meta page 1 of %u",
                              meta[0].page_size(), m.page_size()));
      }
      if (m.address != 0) {
        return Damaged(Format("%s gives a fixed map address (0x%" PRIx64 "), which twinline never "
                              "asks for",
                              name.c_str(), m.address));
      }
      if (m.last_page < 1 || m.last_page >= (uint64_t{1} << 48)) {
        return Damaged(Format("%s says page %" PRIu64 " is the last in use", name.c_str(),
                              m.last_page));
      }
      if (m.mapsize / m.page_size() <= m.last_page) {
        return Damaged(Format("%s gives a map of %" PRIu64 " bytes, too small for its %" PRIu64
                              " pages",
                              name.c_str(), m.mapsize, m.last_page + 1));
      }
      for (bool free_table : {true, false}) {
        const std::string problem =
            RecordProblem(free_table ? m.free : m.main,
                          name + (free_table ? ": the free-page table" : ": the main table"),
                          free_table, m.last_page);
        if (!problem.empty()) return Damaged(problem);
      }
    }
    const uint64_t t0 = meta[0].txnid, t1 = meta[1].txnid;
    if (t0 != 0 || t1 != 0) {
      for (int i = 0; i < 2; ++i) {
        if ((meta[i].txnid & 1) != static_cast<uint64_t>(i)) {
          return Damaged(Format("meta page %d holds transaction %" PRIu64
                                ", which LMDB would have written to meta page %d",
                                i, meta[i].txnid, static_cast<int>(meta[i].txnid & 1)));
        }
      }
      if (std::max(t0, t1) - std::min(t0, t1) != 1) {
        return Damaged(Format("the meta pages hold transactions %" PRIu64 " and %" PRIu64
                              ", which are not one after the other",
                              t0, t1));
      }
    }
    // LMDB reads the meta page with the higher transaction id (page 0 on a tie).
    const int newest = t0 < t1 ? 1 : 0;
    current_ = meta[newest];
    const Meta& older = meta[1 - newest];
    page_size_ = current_.page_size();
    const uint64_t pages_in_file = size_ / page_size_;
    if (current_.last_page >= pages_in_file) {
      return Damaged(Format("it is %" PRIu64 " bytes long (%" PRIu64
                            " pages of %u bytes), but its newest snapshot (meta page %d, "
                            "transaction %" PRIu64 ") uses %" PRIu64 " pages (%" PRIu64
                            " bytes): the file was cut short, or that meta page is damaged",
                            size_, pages_in_file, page_size_, newest, current_.txnid,
                            current_.last_page + 1, (current_.last_page + 1) * page_size_));
    }
    if (older.last_page > current_.last_page) {
      return Damaged(Format("meta page %d (the older snapshot) uses pages up to %" PRIu64
                            ", beyond the newest snapshot's last page %" PRIu64,
                            1 - newest, older.last_page, current_.last_page));
    }
    facts->exists = true;
    facts->file_bytes = size_;
    facts->page_size = page_size_;
    facts->last_page = current_.last_page;
    facts->txnid = current_.txnid;
    facts->holds_data = current_.main.entries > 0;
    return Status::Ok();
  }

  // The newest snapshot's roots: the free-page table's root page, every page
  // of the main table and each named table's record and root page.
  Status CheckPages(std::vector<std::string>* tables) {
    uint64_t pages = current_.free.pages() + current_.main.pages();
    if (current_.free.root != kNoPage) {
      TWINLINE_RETURN_IF_ERROR(CheckRoot(current_.free, "the free-page table"));
    }
    if (current_.main.root != kNoPage) {
      size_t visited = 0;
      TWINLINE_RETURN_IF_ERROR(
          WalkMain(current_.main.root, 1, &visited, &pages, tables));
    }
    if (pages > current_.last_page - 1) {
      return Damaged(Format("its tables say they hold %" PRIu64 " pages, more than the %" PRIu64
                            " in use",
                            pages, current_.last_page - 1));
    }
    return Status::Ok();
  }

  Status CheckRoot(const DbRecord& d, const std::string& what) {
    std::string page;
    TWINLINE_RETURN_IF_ERROR(ReadPage(d.root, &page));
    const std::string problem = PageProblem(page, d.root, d.depth > 1, page_size_, current_.last_page);
    if (!problem.empty()) {
      return Damaged(Format("the root page (%" PRIu64 ") of %s ", d.root, what.c_str()) +
                     problem);
    }
    return Status::Ok();
  }

  // The main table's page `pgno` at `level` (1 = its root) and below.
  Status WalkMain(uint64_t pgno, uint16_t level, size_t* visited, uint64_t* pages,
                  std::vector<std::string>* tables) {
    if (++*visited > kMaxMainPages) {
      return Damaged("the main table (the directory of named tables) holds more pages than any "
                     "twinline database's");
    }
    std::string page;
    TWINLINE_RETURN_IF_ERROR(ReadPage(pgno, &page));
    const bool branch = level < current_.main.depth;
    const std::string problem = PageProblem(page, pgno, branch, page_size_, current_.last_page);
    if (!problem.empty()) {
      return Damaged(Format("page %" PRIu64 " of the main table (the directory of named "
                            "tables) ",
                            pgno) +
                     problem);
    }
    const size_t nodes = (U16(page.data() + 12) - kPageHeader) / 2;
    for (size_t i = 0; i < nodes; ++i) {
      const char* node = page.data() + U16(page.data() + kPageHeader + 2 * i);
      const uint16_t lo = U16(node), hi = U16(node + 2), flags = U16(node + 4);
      const uint16_t key_size = U16(node + 6);
      if (branch) {
        const uint64_t child = lo | (uint64_t{hi} << 16) | (uint64_t{flags} << 32);
        TWINLINE_RETURN_IF_ERROR(WalkMain(child, level + 1, visited, pages, tables));
        continue;
      }
      if (flags != kSubData) continue;  // not a named table: LMDB refuses to open it as one
      const std::string name(node + kNodeHeader, key_size);
      const uint32_t size = lo | (uint32_t{hi} << 16);
      if (size != kDbRecordSize) {
        return Damaged(Format("the record of table '%s' is %u bytes long, not %zu",
                              Printable(name).c_str(), size, kDbRecordSize));
      }
      const DbRecord d = DbRecord::Parse(node + kNodeHeader + key_size);
      const std::string what = "table '" + Printable(name) + "'";
      const std::string record_problem = RecordProblem(d, what, false, current_.last_page);
      if (!record_problem.empty()) return Damaged(record_problem);
      if (d.root != kNoPage) TWINLINE_RETURN_IF_ERROR(CheckRoot(d, what));
      *pages += d.pages();
      tables->push_back(name);
    }
    return Status::Ok();
  }

  Status ReadPage(uint64_t pgno, std::string* page) {
    page->assign(page_size_, '\0');
    if ((pgno + 1) * page_size_ > size_) {
      return Damaged(Format("page %" PRIu64 " lies beyond the end of the file", pgno));
    }
    return ReadAt(pgno * page_size_, page->data(), page_size_);
  }

  Status ReadAt(uint64_t offset, char* out, size_t n) {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Errno("cannot read");
      if (r == 0) {
        return Damaged(Format("it ends at byte %" PRIu64 " while being read", offset + done));
      }
      done += static_cast<size_t>(r);
    }
    return Status::Ok();
  }

  Status Errno(const char* what) const {
    return Status::IOError(std::string(what) + " '" + path_ + "': " + std::strerror(errno));
  }

  const int fd_;
  const std::string path_;
  uint64_t size_ = 0;
  uint32_t page_size_ = 0;
  Meta current_;
};

}  // namespace

Status CheckDataFile(const std::string& dir, DataFileFacts* facts) {
  *facts = DataFileFacts();
  const std::string path = dir + "/data.mdb";
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status::Ok();
    // No right to read it: LMDB's open says so in its own words.
    if (err == EACCES || err == EPERM) return Status::Ok();
    return Status::IOError("cannot open '" + path + "': " + std::strerror(err));
  }
  struct stat st;
  Status result;
  if (fstat(fd, &st) != 0) {
    result = Status::IOError("cannot stat '" + path + "': " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    result = Status::Corruption("data file '" + path +
                                "' is not a regular file; a twinline database keeps its data in "
                                "a plain file");
  } else {
    result = Checker(fd, path).Run(facts);
  }
  close(fd);
  if (result.ok()) facts->exists = true;
  return result;
}

namespace {

constexpr uint16_t kOverflowPage = 0x04, kDirtyPage = 0x10, kLeaf2Page = 0x20, kSubPage = 0x40;
// MDB_db flags that change the order of keys or duplicates, or the layout
// of a table of sorted duplicates.
constexpr uint16_t kReverseKey = 0x02, kDupSort = 0x04, kDupFixed = 0x10, kIntegerDup = 0x20,
                   kReverseDup = 0x40;

// LMDB's default key order (no MDB_REVERSEKEY, MDB_INTEGERKEY): bytes,
// then length. Duplicates compare the same way unless the table says
// MDB_REVERSEDUP or MDB_INTEGERDUP.
int CompareKeys(std::string_view a, std::string_view b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

// Walks one snapshot's trees page by page (CheckTrees): a named table's
// tree, and below a table of sorted duplicates (MDB_DUPSORT) the
// duplicates of each key, kept on a sub-page inside the key's node or, when
// there are many, in a tree of their own whose record (MDB_db) is the
// node's value. A sub-tree counts its pages and entries in that record; the
// table's record counts the pages of its own tree and every duplicate as an
// entry.
class TreeWalker {
 public:
  TreeWalker(int fd, std::string path, uint32_t page_size, uint64_t last_page)
      : fd_(fd), path_(std::move(path)), page_size_(page_size), last_page_(last_page),
        seen_(last_page + 1, false) {}

  Status Walk(const std::string& name, const DbRecord& d) {
    if (d.root == kNoPage) return Status::Ok();
    name_ = name;
    table_flags_ = d.flags;
    Tree tree;
    tree.depth = d.depth;
    tree.ordered = (d.flags & (kReverseKey | kIntegerKey)) == 0;
    return WalkTree(d, &tree, "its record");
  }

 private:
  // One tree being walked: the table's own, or the duplicates of one key.
  struct Tree {
    uint16_t depth = 0;
    bool ordered = true;  // keys in CompareKeys order (others are not checked)
    bool duplicates = false;  // the tree of one key's duplicates
    uint32_t fixed = 0;   // their size, on P_LEAF2 leaves (MDB_DUPFIXED), or 0
    DbRecord counted;
  };

  Status Damaged(const std::string& what) const {
    return Status::Corruption("data file '" + path_ + "' is damaged: table '" +
                              Printable(name_) + "': " + what +
                              "; restore the database from a backup");
  }

  // Walks `tree` from the root of `d` and compares what its pages hold with
  // the counts of `d` (`record` names it).
  Status WalkTree(const DbRecord& d, Tree* tree, const std::string& record) {
    TWINLINE_RETURN_IF_ERROR(Page(tree, d.root, 1, nullptr, nullptr));
    const DbRecord& c = tree->counted;
    if (c.branch != d.branch || c.leaf != d.leaf || c.overflow != d.overflow ||
        c.entries != d.entries) {
      return Damaged(Format("%s says %" PRIu64 " branch, %" PRIu64 " leaf and %" PRIu64
                            " overflow pages and %" PRIu64 " entries; its pages hold %" PRIu64
                            ", %" PRIu64 ", %" PRIu64 " and %" PRIu64,
                            record.c_str(), d.branch, d.leaf, d.overflow, d.entries, c.branch,
                            c.leaf, c.overflow, c.entries));
    }
    return Status::Ok();
  }

  Status Claim(uint64_t pgno, uint64_t count) {
    if (pgno < 2 || pgno > last_page_ || count > last_page_ - pgno + 1) {
      return Damaged(Format("pages %" PRIu64 "..%" PRIu64 " lie outside the pages in use (2..%" PRIu64
                            ")",
                            pgno, pgno + count - 1, last_page_));
    }
    for (uint64_t p = pgno; p < pgno + count; ++p) {
      if (seen_[p]) return Damaged(Format("page %" PRIu64 " is reached twice", p));
      seen_[p] = true;
    }
    return Status::Ok();
  }

  Status Read(uint64_t pgno, size_t bytes, std::string* page) const {
    page->assign(bytes, '\0');
    size_t done = 0;
    while (done < bytes) {
      const ssize_t r = pread(fd_, page->data() + done, bytes - done,
                              static_cast<off_t>(pgno * page_size_ + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Status::IOError("cannot read '" + path_ + "': " + std::strerror(errno));
      if (r == 0) return Damaged(Format("page %" PRIu64 " lies beyond the end of the file", pgno));
      done += static_cast<size_t>(r);
    }
    return Status::Ok();
  }

  // `keys` in order and inside [low, high) (unbounded where null); a branch
  // page's first key is LMDB's placeholder and not compared. `where` names
  // the page.
  Status CheckOrder(const std::vector<std::string_view>& keys, bool branch,
                    const std::string* low, const std::string* high, const std::string& where) {
    for (size_t i = branch ? 1 : 0; i < keys.size(); ++i) {
      if (i > (branch ? 1u : 0u) && CompareKeys(keys[i - 1], keys[i]) >= 0) {
        return Damaged(Format("%s holds its keys %zu and %zu out of order", where.c_str(), i - 1,
                              i));
      }
      if ((low && CompareKeys(keys[i], *low) < 0) || (high && CompareKeys(keys[i], *high) >= 0)) {
        return Damaged(Format("%s holds key %zu outside the range its parent page gives it",
                              where.c_str(), i));
      }
    }
    return Status::Ok();
  }

  // The keys of a P_LEAF2 page (`bytes` long: a page, or a sub-page): fixed
  // size keys back to back after the header, their count in `lower`.
  Status Leaf2Keys(const char* p, size_t bytes, uint32_t fixed, const std::string& where,
                   std::vector<std::string_view>* keys) {
    const uint16_t lower = U16(p + 12), upper = U16(p + 14);
    if (fixed == 0 || lower < kPageHeader || (lower - kPageHeader) % 2 != 0 || upper > bytes ||
        lower > upper) {
      return Damaged(Format("%s has free space bounds %u..%u or key size %u, impossible in %zu "
                            "bytes",
                            where.c_str(), lower, upper, fixed, bytes));
    }
    const size_t n = (lower - kPageHeader) / 2;
    if (n == 0 || kPageHeader + n * fixed > bytes) {
      return Damaged(Format("%s says it holds %zu keys of %u bytes, which do not fit in %zu bytes",
                            where.c_str(), n, fixed, bytes));
    }
    keys->clear();
    for (size_t i = 0; i < n; ++i) keys->emplace_back(p + kPageHeader + i * fixed, fixed);
    return Status::Ok();
  }

  // The duplicates of one key kept on a sub-page: the node's value, a page
  // header (P_LEAF | P_SUBP, with P_LEAF2 for fixed-size duplicates) and
  // the duplicates as keys, with no values.
  Status SubPage(const char* p, size_t bytes, const std::string& where, uint64_t* entries) {
    if (bytes < kPageHeader) {
      return Damaged(Format("%s holds a sub-page of %zu bytes", where.c_str(), bytes));
    }
    const bool fixed = (table_flags_ & kDupFixed) != 0;
    const uint16_t flags = U16(p + 10) & ~kDirtyPage;
    const uint16_t want = kLeafPage | kSubPage | (fixed ? kLeaf2Page : 0);
    if (flags != want) {
      return Damaged(
          Format("%s holds a sub-page with flags 0x%x where LMDB writes 0x%x", where.c_str(),
                 U16(p + 10), want));
    }
    std::vector<std::string_view> keys;
    if (fixed) {
      TWINLINE_RETURN_IF_ERROR(Leaf2Keys(p, bytes, U16(p + 8), where + "'s sub-page", &keys));
    } else {
      const uint16_t lower = U16(p + 12), upper = U16(p + 14);
      if (lower < kPageHeader || lower > upper || upper > bytes || (lower - kPageHeader) % 2 != 0 ||
          lower == kPageHeader) {
        return Damaged(Format("%s holds a sub-page with free space bounds %u..%u in %zu bytes",
                              where.c_str(), lower, upper, bytes));
      }
      for (size_t i = 0; i < (lower - kPageHeader) / 2u; ++i) {
        const size_t at = U16(p + kPageHeader + 2 * i);
        if (at < upper || at + kNodeHeader > bytes || at + kNodeHeader + U16(p + at + 6) > bytes) {
          return Damaged(Format("%s holds a sub-page whose node %zu lies outside it",
                                where.c_str(), i));
        }
        keys.emplace_back(p + at + kNodeHeader, U16(p + at + 6));
      }
    }
    if ((table_flags_ & (kIntegerDup | kReverseDup)) == 0) {
      TWINLINE_RETURN_IF_ERROR(CheckOrder(keys, false, nullptr, nullptr, where + "'s sub-page"));
    }
    *entries += keys.size();
    return Status::Ok();
  }

  // The duplicates of one key kept in a tree of their own, whose record is
  // `value` (48 bytes).
  Status SubTree(const char* value, const std::string& where, uint64_t* entries) {
    const DbRecord sub = DbRecord::Parse(value);
    const std::string what = "the record of " + where + "'s duplicates";
    const uint16_t want = table_flags_ & kDupFixed ? (kDupFixed | (table_flags_ & kIntegerDup ? kIntegerKey : 0)) : 0;
    if (sub.flags != want) {
      return Damaged(Format("%s has flags 0x%x where LMDB writes 0x%x", what.c_str(), sub.flags,
                            want));
    }
    const std::string problem = RecordProblem(sub, what, false, last_page_);
    if (!problem.empty()) return Damaged(problem);
    if (sub.root == kNoPage) return Damaged(what + " says the key has no duplicates");
    Tree tree;
    tree.depth = sub.depth;
    tree.ordered = (table_flags_ & (kIntegerDup | kReverseDup)) == 0;
    tree.duplicates = true;
    tree.fixed = table_flags_ & kDupFixed ? sub.pad : 0;
    TWINLINE_RETURN_IF_ERROR(WalkTree(sub, &tree, what));
    *entries += sub.entries;
    return Status::Ok();
  }

  // Page `pgno` of `tree` at `level` (1: the root), whose keys must lie in
  // [low, high) (the bounds are the parent's keys, alive while its children
  // are walked).
  Status Page(Tree* tree, uint64_t pgno, uint16_t level, const std::string* low,
              const std::string* high) {
    TWINLINE_RETURN_IF_ERROR(Claim(pgno, 1));
    std::string page;
    TWINLINE_RETURN_IF_ERROR(Read(pgno, page_size_, &page));
    const char* p = page.data();
    const bool branch = level < tree->depth;
    const std::string where = Format("page %" PRIu64, pgno);
    std::vector<std::string_view> keys;
    if (tree->fixed != 0 && !branch) {
      // A leaf of fixed-size duplicates: no nodes, the keys back to back.
      if (U64(p) != pgno || U16(p + 10) != (kLeafPage | kLeaf2Page)) {
        return Damaged(Format("%s carries page number %" PRIu64 " and flags 0x%x where LMDB "
                              "wrote a leaf of fixed-size duplicates",
                              where.c_str(), U64(p), U16(p + 10)));
      }
      TWINLINE_RETURN_IF_ERROR(Leaf2Keys(p, page_size_, tree->fixed, where, &keys));
    } else {
      const std::string problem = PageProblem(page, pgno, branch, page_size_, last_page_);
      if (!problem.empty()) return Damaged(where + " " + problem);
      const size_t nodes = (U16(p + 12) - kPageHeader) / 2;
      for (size_t i = 0; i < nodes; ++i) {
        const char* node = p + U16(p + kPageHeader + 2 * i);
        keys.emplace_back(node + kNodeHeader, U16(node + 6));
      }
    }
    if (tree->ordered) TWINLINE_RETURN_IF_ERROR(CheckOrder(keys, branch, low, high, where));
    if (branch) {
      ++tree->counted.branch;
      std::vector<std::string> bounds(keys.begin(), keys.end());
      for (size_t i = 0; i < keys.size(); ++i) {
        const char* node = p + U16(p + kPageHeader + 2 * i);
        const uint64_t child =
            U16(node) | (uint64_t{U16(node + 2)} << 16) | (uint64_t{U16(node + 4)} << 32);
        const std::string* child_low = i == 0 ? low : &bounds[i];
        const std::string* child_high = i + 1 < keys.size() ? &bounds[i + 1] : high;
        if (!tree->ordered) child_low = child_high = nullptr;
        TWINLINE_RETURN_IF_ERROR(Page(tree, child, level + 1, child_low, child_high));
      }
      return Status::Ok();
    }
    ++tree->counted.leaf;
    if (tree->fixed != 0) {
      tree->counted.entries += keys.size();
      return Status::Ok();
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      const size_t at = U16(p + kPageHeader + 2 * i);
      const char* node = p + at;
      const uint16_t flags = U16(node + 4);
      const size_t size = U16(node) | (size_t{U16(node + 2)} << 16);
      const char* value = node + kNodeHeader + U16(node + 6);
      const std::string node_name = Format("page %" PRIu64 " node %zu", pgno, i);
      const bool dupsort = (table_flags_ & kDupSort) != 0 && !tree->duplicates;
      if ((flags & (kDupData | kSubData)) != 0) {
        if (!dupsort || (flags & kDupData) == 0 || (flags & kBigData) != 0) {
          return Damaged(Format("%s has flags 0x%x, which LMDB never writes in this table",
                                node_name.c_str(), flags));
        }
        if (flags & kSubData) {
          if (size != kDbRecordSize) {
            return Damaged(Format("%s holds a record of duplicates of %zu bytes, not %zu",
                                  node_name.c_str(), size, kDbRecordSize));
          }
          TWINLINE_RETURN_IF_ERROR(SubTree(value, node_name, &tree->counted.entries));
        } else {
          TWINLINE_RETURN_IF_ERROR(SubPage(value, size, node_name, &tree->counted.entries));
        }
        continue;
      }
      ++tree->counted.entries;
      if ((flags & kBigData) == 0) continue;
      // The value lives on overflow pages: a header, then the bytes.
      const uint64_t first = U64(value);
      std::string header;
      TWINLINE_RETURN_IF_ERROR(Read(first, kPageHeader, &header));
      const uint32_t pages = U32(header.data() + 12);
      if (U64(header.data()) != first || U16(header.data() + 10) != kOverflowPage ||
          pages == 0 || size > uint64_t{pages} * page_size_ - kPageHeader) {
        return Damaged(Format("%s: its value of %zu bytes does not fit the overflow pages at "
                              "%" PRIu64 " (header: page %" PRIu64 ", flags 0x%x, %u pages)",
                              node_name.c_str(), size, first, U64(header.data()),
                              U16(header.data() + 10), pages));
      }
      TWINLINE_RETURN_IF_ERROR(Claim(first, pages));
      tree->counted.overflow += pages;
    }
    return Status::Ok();
  }

  const int fd_;
  const std::string path_;
  const uint32_t page_size_;
  const uint64_t last_page_;
  std::vector<bool> seen_;
  std::string name_;
  uint16_t table_flags_ = 0;
};

std::string TableList(const std::vector<std::string>& tables) {
  std::string list;
  for (const std::string& t : tables) list += (list.empty() ? "" : ", ") + Printable(t);
  return list;
}

}  // namespace

Status CheckTrees(const lmdb::Txn& txn, const std::string& dir) {
  MDB_env* env = mdb_txn_env(txn.get());
  MDB_stat stat;
  MDB_envinfo info;
  mdb_env_stat(env, &stat);
  mdb_env_info(env, &info);
  // The snapshot's named tables and their records, from the main table.
  MDB_dbi main = 0;
  TWINLINE_RETURN_IF_ERROR(
      lmdb::LmdbStatus(mdb_dbi_open(txn.get(), nullptr, 0, &main), "opening the main table"));
  std::vector<std::pair<std::string, DbRecord>> tables;
  {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(txn, main, &c));
    for (bool ok = c->First(); ok; ok = c->Next()) {
      if (c->value().size() != kDbRecordSize) continue;  // not a named table
      tables.emplace_back(std::string(c->key()), DbRecord::Parse(c->value().data()));
    }
    TWINLINE_RETURN_IF_ERROR(c->status());
  }
  const std::string path = dir + "/data.mdb";
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("cannot open '" + path + "': " + std::strerror(errno));
  TreeWalker walker(fd, path, stat.ms_psize, info.me_last_pgno);
  Status result;
  for (const auto& [name, record] : tables) {
    const std::string problem =
        RecordProblem(record, "table '" + Printable(name) + "'", false, info.me_last_pgno);
    result = problem.empty() ? walker.Walk(name, record)
                             : Status::Corruption("data file '" + path + "' is damaged: " + problem);
    if (!result.ok()) break;
  }
  close(fd);
  return result;
}

Status CheckTableSet(const std::string& dir, const DataFileFacts& facts,
                     std::span<const char* const> expected) {
  if (!facts.tables_checked) return Status::Ok();
  std::string missing;
  for (const char* name : expected) {
    if (std::find(facts.tables.begin(), facts.tables.end(), name) == facts.tables.end()) {
      missing += (missing.empty() ? "'" : ", '") + std::string(name) + "'";
    }
  }
  if (missing.empty()) return Status::Ok();
  return Status::Corruption("data file '" + dir + "/data.mdb' is damaged: it lacks table(s) " +
                            missing + " of a twinline database (it holds: " +
                            TableList(facts.tables) +
                            "). Nothing was written to it; restore the database from a backup");
}

Status NoVersionRecord(const std::string& dir, const DataFileFacts& facts) {
  if (!facts.holds_data) {
    return Status::NotFound("'" + dir +
                            "' is not an initialised twinline database (run `twinline init`)");
  }
  return Status::Corruption(
      "data file '" + dir + "/data.mdb' holds " +
      (facts.tables_checked ? "tables (" + TableList(facts.tables) + ")" : std::string("tables")) +
      " but not twinline's version record (table 'meta', key 'format_version'): it is damaged, "
      "or not a twinline database. `twinline init` never writes into a data file that holds "
      "anything; nothing was written");
}

}  // namespace twinline
