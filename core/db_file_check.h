// CheckDataFile: is an LMDB data file (DIR/data.mdb) whole and sane enough
// to be mapped? Run by every EventLog::Open before LMDB maps the file, and by
// EventLog::QuickVerify (so `serve` checks it at start-up).
//
// Why: LMDB trusts its file. It maps data.mdb and follows the page numbers
// its meta pages and B-tree pages hold; a data file cut short makes the
// first read past its end a SIGBUS, and a flipped bit in a meta page makes
// LMDB read an older snapshot, a wrong root, or a page that is not there.
// This check reads the file with pread(2) only (it never maps it) and
// refuses it, as kCorruption naming what is wrong, unless:
//
//  * it is a regular file of at least two pages (a 0-byte data file is
//    damage too: LMDB writes both meta pages the moment it creates one);
//  * each meta page (page 0 and 1) is one: the page header says P_META and
//    its own number, LMDB's magic 0xBEEFC0DE and data format version 1, a
//    page size that is a power of two in 512..65536 and the same in both,
//    no fixed map address, a map size that holds the pages in use, and for
//    the free-page and main tables (MDB_db records): valid flags, a root
//    that is P_INVALID exactly when the tree is empty (depth 0, no pages,
//    no entries) and otherwise a page in 2..last page, a depth of 1..32
//    and page counts that fit in the file;
//  * the two meta pages are one history: transaction ids differ by one
//    and each sits in the slot LMDB writes it to (txnid mod 2), or both
//    are 0 (an environment nothing was ever committed to). The newer one
//    is the snapshot LMDB will read: its last page must lie inside the
//    file (the truncation check), the older one's no further out;
//  * the roots of the current snapshot are what it says they are: the
//    free-page table's root and every page of the main table (the
//    directory of named tables, read in full) and the root page of every
//    named table carry their own page number, are a branch page exactly
//    when the depth says so, and every node on them lies inside the page
//    and points at a page inside the file; each named table's record
//    (MDB_db) passes the checks above, and all trees together hold no
//    more pages than the file.
//
// What it cannot see: damage inside the pages below the roots. LMDB finds
// some of that itself (MDB_PAGE_NOTFOUND, MDB_CORRUPTED: kCorruption); the
// hash chain and Verify() find the rest in twinline's records.
//
// Concurrency: another process may be committing while this reads (a
// server, an import). LMDB writes the meta page last and does not reuse a
// page of the newest snapshot until two later commits, so the check reads
// the meta pages again at the end and starts over when the newest
// transaction id moved (bounded; if writers never pause it gives up on the
// page checks and keeps the meta page checks' verdict). It takes no lock
// and writes nothing.
//
// The layout read here is LMDB 0.9's (data format version 1, lmdb.h's
// MDB_DATA_VERSION on little-endian 64-bit hosts): a page header of 16
// bytes (pgno u64, pad u16, flags u16, lower u16, upper u16), then on a meta
// page the MDB_meta (magic u32, version u32, address u64, mapsize u64, two
// MDB_db of 48 bytes: pad u32 (the page size, for the free table), flags
// u16, depth u16, branch/leaf/overflow pages u64, entries u64, root u64;
// then last page u64, txnid u64), and on a branch or leaf page an array of
// u16 node offsets from byte 16 to `lower`, each node an 8-byte header (lo
// u16, hi u16, flags u16, key size u16) and the key, then on a leaf the
// value (or an overflow page number), on a branch the child's page number
// (lo | hi << 16 | flags << 32). docs/FORMAT.md, "The data file as LMDB
// keeps it", states the same for readers of the file.
#ifndef TWINLINE_CORE_DB_FILE_CHECK_H_
#define TWINLINE_CORE_DB_FILE_CHECK_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace twinline {

namespace lmdb {
class Txn;
}

// What CheckDataFile learnt about a data file that passed.
struct DataFileFacts {
  bool exists = false;        // false: no data.mdb (nothing else is set)
  uint64_t file_bytes = 0;
  uint32_t page_size = 0;
  uint64_t last_page = 0;     // of the newest snapshot
  uint64_t txnid = 0;         // the newest snapshot's transaction id
  // The named tables of the newest snapshot, in key order. Empty when the
  // pages were not checked (writers never paused) or nothing was ever
  // committed.
  std::vector<std::string> tables;
  bool tables_checked = false;  // `tables` was read (the page checks ran)
  // Whether the file holds anything to lose: a committed transaction that
  // left the main table non-empty. `twinline init` writes only where it
  // does not.
  bool holds_data = false;
};

// Checks `dir`/data.mdb as described at the top of this file. OK when there
// is no data file (facts->exists false) or it passed; kCorruption naming the
// file and the damage; kIOError when it cannot be read for another reason
// than permissions (those are left to LMDB, whose open says so).
Status CheckDataFile(const std::string& dir, DataFileFacts* facts);

// Every page of every named table in the snapshot of `txn` (a read
// transaction of the environment in `dir`), read with pread(2): what
// CheckDataFile checks of a root, for every branch, leaf and overflow page;
// every key in order within its page and within the bounds its parent's
// keys set (so every lookup and seek finds what a scan finds); no page
// reached twice; and each table's page and entry counts as its record says.
// For EventLog::Verify: it reads the whole file once. The read transaction
// keeps LMDB from reusing the pages it walks, so writers may go on.
Status CheckTrees(const lmdb::Txn& txn, const std::string& dir);

// The table set: kCorruption naming every table of `expected` that the
// checked file lacks (OK when its tables were not read).
Status CheckTableSet(const std::string& dir, const DataFileFacts& facts,
                     std::span<const char* const> expected);

// What a database without twinline's version record is: kNotFound ("not an
// initialised twinline database", run `twinline init`) when its data file
// holds nothing; otherwise kCorruption (damaged, or not twinline's), which
// `twinline init` never writes into.
Status NoVersionRecord(const std::string& dir, const DataFileFacts& facts);

}  // namespace twinline

#endif  // TWINLINE_CORE_DB_FILE_CHECK_H_
