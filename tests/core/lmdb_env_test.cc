// The LMDB wrappers' guard rails (core/lmdb_env.h, core/lmdb_guard.h): each
// environment knows where its own map lies, among other maps of the same
// file in the process, and a value LMDB hands out that runs past the data
// file's pages is refused as damage before anyone reads it.
#include "core/lmdb_env.h"

#include <gtest/gtest.h>
#include <lmdb.h>

#include <string>

#include "tests/testing/test_util.h"

namespace twinline::lmdb {
namespace {

constexpr char kNeedle[] = "needle-key";

// A database with one table holding `kNeedle` (a 100-byte value, kept on
// its leaf page) and a few neighbours.
void MakeDatabase(const std::string& dir) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 4);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), 0, 0644), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi dbi = 0;
  ASSERT_EQ(mdb_dbi_open(txn, "t", MDB_CREATE, &dbi), 0);
  for (const std::string key : {"a-key", kNeedle, "z-key"}) {
    std::string value(100, 'v');
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), value.data()};
    ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
  }
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

Status GetNeedle(const Env& env, MDB_val* value, const char** base) {
  std::unique_ptr<Txn> txn;
  TWINLINE_RETURN_IF_ERROR(Txn::Begin(env, /*read_only=*/true, &txn));
  MDB_dbi dbi = 0;
  TWINLINE_RETURN_IF_ERROR(txn->OpenDb("t", false, &dbi));
  *base = env.range().base;
  return txn->Get(dbi, kNeedle, value);
}

TEST(LmdbEnvTest, EachEnvironmentKnowsItsOwnMapAmongOthersOfTheSameFile) {
  test::TempDir dir{"twinline-lmdb-env"};
  MakeDatabase(dir.path());
  EnvOptions options;
  options.read_only = true;
  std::unique_ptr<Env> first, second;
  ASSERT_TRUE(Env::Open(dir.path(), options, &first).ok());
  ASSERT_TRUE(Env::Open(dir.path(), options, &second).ok());
  for (const Env* env : {first.get(), second.get()}) {
    MDB_val v;
    const char* base = nullptr;
    ASSERT_TRUE(GetNeedle(*env, &v, &base).ok());
    ASSERT_NE(base, nullptr) << "the map was not found";
    const char* p = static_cast<const char*>(v.mv_data);
    EXPECT_GE(p, base);
    EXPECT_LT(p + v.mv_size, base + env->range().size);
  }
  EXPECT_NE(first->range().base, second->range().base);
  // A resize maps the file again: the range follows it.
  ASSERT_TRUE(first->Remap(first->map_size() * 4, std::chrono::milliseconds(1000)).ok());
  MDB_val v;
  const char* base = nullptr;
  ASSERT_TRUE(GetNeedle(*first, &v, &base).ok());
  ASSERT_NE(base, nullptr);
  EXPECT_GE(static_cast<const char*>(v.mv_data), base);
  EXPECT_LT(static_cast<const char*>(v.mv_data), base + first->range().size);
}

TEST(LmdbEnvTest, ValueRunningPastTheDataFileIsCorruptionNotARead) {
  test::TempDir dir{"twinline-lmdb-env"};
  MakeDatabase(dir.path());
  // The node before the key: value size lo u16, hi u16, flags, key size.
  const std::string path = dir / "data.mdb";
  std::string bytes = test::ReadFile(path);
  const size_t key_at = bytes.find(kNeedle);
  ASSERT_NE(key_at, std::string::npos);
  ASSERT_EQ(static_cast<unsigned char>(bytes[key_at - 8]), 100u);  // lo: the value's size
  bytes[key_at - 6] = 0x10;  // hi: + 1 MiB, past the end of the file
  test::WriteFile(path, bytes);

  EnvOptions options;
  options.read_only = true;
  std::unique_ptr<Env> env;
  ASSERT_TRUE(Env::Open(dir.path(), options, &env).ok());
  MDB_val v;
  const char* base = nullptr;
  const Status st = GetNeedle(*env, &v, &base);
  EXPECT_EQ(st.code(), Status::Code::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("beyond the end of the data file's pages"), std::string::npos)
      << st.message();
}

// An empty value's data lies where its node ends, and the first node put
// into a page lies at the page's end: in the last page in use, that is the
// end of the pages in use. Such a value is no damage (a crashed server's
// log was once refused for one at restart).
TEST(LmdbEnvTest, EmptyValueAtTheEndOfTheLastPageInUseIsNoDamage) {
  test::TempDir dir{"twinline-lmdb-env"};
  {
    MDB_env* raw = nullptr;
    ASSERT_EQ(mdb_env_create(&raw), 0);
    ASSERT_EQ(mdb_env_open(raw, dir.path().c_str(), 0, 0644), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(raw, nullptr, 0, &txn), 0);
    MDB_dbi main = 0;
    ASSERT_EQ(mdb_dbi_open(txn, nullptr, 0, &main), 0);
    MDB_val k{4, const_cast<char*>("only")};
    MDB_val v{0, nullptr};
    ASSERT_EQ(mdb_put(txn, main, &k, &v, 0), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(raw);
  }
  EnvOptions options;
  options.read_only = true;
  std::unique_ptr<Env> env;
  ASSERT_TRUE(Env::Open(dir.path(), options, &env).ok());
  ASSERT_NE(env->range().base, nullptr) << "the map was not found: the check would check nothing";
  std::unique_ptr<Txn> txn;
  ASSERT_TRUE(Txn::Begin(*env, /*read_only=*/true, &txn).ok());
  MDB_dbi main = 0;
  ASSERT_EQ(mdb_dbi_open(txn->get(), nullptr, 0, &main), 0);
  MDB_val v;
  const Status st = txn->Get(main, "only", &v);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(v.mv_size, 0u);
  // The value does lie at the end of the pages in use (the case pinned).
  MDB_envinfo info;
  MDB_stat stat;
  mdb_env_info(env->get(), &info);
  mdb_env_stat(env->get(), &stat);
  EXPECT_EQ(static_cast<const char*>(v.mv_data),
            env->range().base + (info.me_last_pgno + 1) * size_t{stat.ms_psize});
}

}  // namespace
}  // namespace twinline::lmdb
