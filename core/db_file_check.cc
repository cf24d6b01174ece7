#include "core/db_file_check.h"

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
#include <string_view>
#include <thread>

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
    const std::string problem = PageProblem(page, d.root, d.depth > 1);
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
    const std::string problem = PageProblem(page, pgno, branch);
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

  // The problem with B-tree page `pgno` (a branch page when `branch`),
  // phrased to follow its name, or "".
  std::string PageProblem(const std::string& page, uint64_t pgno, bool branch) const {
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
    if (lower < kPageHeader || lower > upper || upper > page_size_ ||
        (lower - kPageHeader) % 2 != 0) {
      return Format("has free space bounds %u..%u, impossible in a page of %u bytes", lower,
                    upper, page_size_);
    }
    const size_t nodes = (lower - kPageHeader) / 2;
    if (nodes < (branch ? 2u : 1u)) return Format("holds %zu nodes", nodes);
    for (size_t i = 0; i < nodes; ++i) {
      const size_t at = U16(p + kPageHeader + 2 * i);
      if (at < upper || at % 2 != 0 || at + kNodeHeader > page_size_) {
        return Format("has node %zu at offset %zu, outside its node area %u..%u", i, at, upper,
                      page_size_);
      }
      const char* node = p + at;
      const uint16_t lo = U16(node), hi = U16(node + 2), node_flags = U16(node + 4);
      const size_t key_end = at + kNodeHeader + U16(node + 6);
      if (key_end > page_size_) return Format("has node %zu whose key runs past the page", i);
      if (branch) {
        const uint64_t child = lo | (uint64_t{hi} << 16) | (uint64_t{node_flags} << 32);
        if (child < 2 || child > current_.last_page) {
          return Format("points at page %" PRIu64 ", outside the pages in use (2..%" PRIu64 ")",
                        child, current_.last_page);
        }
        continue;
      }
      if ((node_flags & ~(kBigData | kSubData | kDupData)) != 0) {
        return Format("has node %zu with flags 0x%x", i, node_flags);
      }
      if (node_flags & kBigData) {
        if (key_end + 8 > page_size_) return Format("has node %zu running past the page", i);
        const uint64_t first = U64(p + key_end);
        if (first < 2 || first > current_.last_page) {
          return Format("has node %zu whose value starts on page %" PRIu64
                        ", outside the pages in use (2..%" PRIu64 ")",
                        i, first, current_.last_page);
        }
      } else if (key_end + (lo | (size_t{hi} << 16)) > page_size_) {
        return Format("has node %zu whose value runs past the page", i);
      }
    }
    return "";
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

std::string TableList(const std::vector<std::string>& tables) {
  std::string list;
  for (const std::string& t : tables) list += (list.empty() ? "" : ", ") + Printable(t);
  return list;
}

}  // namespace

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
