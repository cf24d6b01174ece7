// Replication through a 3-node NATS JetStream cluster on 127.0.0.1, through
// the real `twinline` binary (replicate, follow, serve --replicate/--follow)
// and the stream itself (cnats): docs/REPLICATION.md, "Tests".
//
// The cluster: the one named by $TWINLINE_NATS_CLUSTER (a directory started
// by tests/replication/nats_cluster.sh, as .ci/run does), else one this test
// starts itself when Debian's nats-server is installed. With neither, the
// tests FAIL under CI=true and are skipped (saying why) elsewhere. They run
// one at a time (a ctest resource lock): one of them kills NATS nodes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include <capnp/serialize-packed.h>
#include <kj/io.h>

#include "core/event_log.h"
#include "tests/testing/server_process.h"
#include "tests/testing/test_util.h"
#include "tools/replication/jetstream.h"
#include "tools/replication/record_message.h"

namespace twinline {
namespace {

namespace fs = std::filesystem;
using replication::Link;
using replication::StreamSpec;
using replication::StreamState;
using test::RunResult;
using test::TempDir;

const std::string kBin = TWINLINE_BIN;
const std::string kGen = TWINLINE_GEN_BIN;
const std::string kClusterScript = std::string(TWINLINE_SOURCE_DIR) + "/tests/replication/nats_cluster.sh";

// A child process with its output in files, for the verbs that run until
// signalled.
class Child {
 public:
  Child() = default;
  ~Child() {
    if (pid_ > 0) Stop(SIGKILL);
  }
  void Start(std::vector<std::string> args, const fs::path& out, const fs::path& err) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  bool running() const { return pid_ > 0; }
  // Signals it and waits; the exit code, 128 + signal when killed by one.
  int Stop(int signal = SIGTERM) {
    if (pid_ <= 0) return -1;
    kill(pid_, signal);
    return Wait();
  }
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

// One HTTP/1.0 request to 127.0.0.1:port; the body of the answer, its
// status in *status.
std::string Http(uint16_t port, const std::string& method, const std::string& target, const std::string& body,
                 int* status) {
  *status = 0;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  std::string req = method + " " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  (void)!write(fd, req.data(), req.size());
  std::string answer;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<size_t>(n));
  close(fd);
  if (answer.size() > 12) *status = std::atoi(answer.c_str() + 9);
  const size_t split = answer.find("\r\n\r\n");
  return split == std::string::npos ? "" : answer.substr(split + 4);
}

// The cluster the tests use; see the top of the file.
class Cluster {
 public:
  ~Cluster() {
    if (own_) Script({"stop", dir_});
  }
  // Finds or starts the cluster; false with the reason in *why otherwise.
  bool Acquire(std::string* why) {
    if (const char* shared = std::getenv("TWINLINE_NATS_CLUSTER"); shared != nullptr && *shared != '\0') {
      dir_ = shared;
      const RunResult r = Script({"urls", dir_});
      urls_ = r.out.substr(0, r.out.find('\n'));
      if (r.exit_code != 0 || urls_.empty()) {
        *why = "TWINLINE_NATS_CLUSTER=" + dir_ + " names no cluster: " + r.err;
        return false;
      }
      return true;
    }
    if (std::system("command -v nats-server >/dev/null 2>&1") != 0) {
      *why = "nats-server is not installed (Debian package nats-server: bash tools/setup.sh)";
      return false;
    }
    own_dir_ = std::make_unique<TempDir>("twinline-nats");
    dir_ = own_dir_->path().string();
    const int base = 21000 + static_cast<int>(getpid() % 250) * 3;
    const RunResult r = Script({"start", dir_, std::to_string(base)});
    if (r.exit_code != 0) {
      *why = "could not start a NATS cluster: " + r.err;
      return false;
    }
    own_ = true;
    urls_ = r.out.substr(0, r.out.find('\n'));
    return true;
  }
  const std::string& urls() const { return urls_; }
  std::vector<std::string> url_list() const {
    std::vector<std::string> list;
    EXPECT_TRUE(replication::ParseServers(urls_, "urls", &list).ok());
    return list;
  }
  RunResult Script(std::vector<std::string> args) {
    args.insert(args.begin(), {"/bin/bash", kClusterScript});
    return test::RunProgram(args, "", scratch_.path());
  }
  // The stream's last seq as node n's own store holds it (its monitoring
  // endpoint), or 0.
  uint64_t NodeLastSeq(int n, const std::string& stream) {
    const int base = std::stoi(test::ReadFile(fs::path(dir_) / "base"));
    int status = 0;
    const std::string body =
        Http(static_cast<uint16_t>(base + 200 + n - 1), "GET", "/jsz?streams=true", "", &status);
    if (status != 200) return 0;
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("account_details")) return 0;
    for (const auto& account : j["account_details"]) {
      if (!account.contains("stream_detail")) continue;
      for (const auto& s : account["stream_detail"]) {
        if (s.value("name", "") == stream) return s["state"].value("last_seq", uint64_t{0});
      }
    }
    return 0;
  }
  const std::string& dir() const { return dir_; }

 private:
  bool own_ = false;
  std::unique_ptr<TempDir> own_dir_;
  std::string dir_, urls_;
  TempDir scratch_{"twinline-nats-script"};
};

class ReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!cluster_.Acquire(&why)) {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && std::string(ci) == "true") {
        FAIL() << "CI=true but there is no NATS JetStream cluster for the replication tests: " << why;
      }
      GTEST_SKIP() << why;
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    stream_ = "T" + std::to_string(getpid()) + "_" + info->name();
    spec_.name = stream_;
  }

  RunResult Tw(const std::string& db, std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {kBin, "--db", db});
    return test::RunProgram(args, input, scratch_.path());
  }
  std::string Db(const std::string& name) { return temp_ / name; }
  std::string Path(const std::string& name) { return temp_ / name; }

  // twinline-gen's history of `events` lines (registrations first).
  std::string Generate(size_t events, int seed = 1) {
    const std::string file = Path("gen-" + std::to_string(events) + "-" + std::to_string(seed) + ".ndjson");
    const RunResult r = test::RunProgram({kGen, "--events", std::to_string(events), "--seed", std::to_string(seed),
                                          "--cities", "100", "--countries", "10"},
                                         "", scratch_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    test::WriteFile(file, r.out);
    return file;
  }
  // The file's lines in files of `size` lines each, in order.
  std::vector<std::string> Chunks(const std::string& file, size_t size) {
    std::ifstream in(file);
    std::vector<std::string> files;
    std::string line, text;
    size_t n = 0;
    auto flush = [&] {
      if (text.empty()) return;
      files.push_back(Path("chunk-" + std::to_string(files.size()) + ".ndjson"));
      test::WriteFile(files.back(), text);
      text.clear();
    };
    while (std::getline(in, line)) {
      text += line + "\n";
      if (++n % size == 0) flush();
    }
    flush();
    return files;
  }
  void Init(const std::string& db) { ASSERT_EQ(Tw(db, {"init"}).exit_code, 0); }
  void Import(const std::string& db, const std::string& file) {
    const RunResult r = Tw(db, {"import", file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  uint64_t LastSeq(const std::string& db) {
    std::unique_ptr<EventLog> log;
    OpenOptions options;
    options.read_only = true;
    if (!EventLog::Open(db, options, &log).ok()) return 0;
    std::unique_ptr<ReadTxn> txn;
    if (!log->BeginRead(&txn).ok()) return 0;
    return txn->LastSeq();
  }
  // `verify`'s chain head (and a passing verify).
  std::string Head(const std::string& db) {
    const RunResult r = Tw(db, {"verify"});
    EXPECT_EQ(r.exit_code, 0) << db << ": " << r.out << r.err;
    const size_t at = r.out.find("chain head ");
    return at == std::string::npos ? "" : r.out.substr(at + 11, 64);
  }
  std::string Export(const std::string& db) {
    const RunResult r = Tw(db, {"export"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  std::vector<std::string> Replicate(bool once) {
    std::vector<std::string> args = {"replicate", "--nats", cluster_.urls(), "--stream", stream_};
    if (once) args.push_back("--once");
    return args;
  }
  std::vector<std::string> Follow(bool once) {
    std::vector<std::string> args = {"follow", "--nats", cluster_.urls(), "--stream", stream_};
    if (once) args.push_back("--once");
    return args;
  }
  void StartChild(Child* child, const std::string& db, std::vector<std::string> args, const std::string& name) {
    args.insert(args.begin(), {kBin, "--db", db});
    child->Start(args, Path(name + ".out"), Path(name + ".err"));
    ASSERT_TRUE(child->running()) << "cannot start " << name;
  }
  std::string Stderr(const std::string& name) { return test::ReadFile(Path(name + ".err")); }

  // What the stream holds, from a fresh connection.
  StreamState Stream() {
    std::unique_ptr<Link> link;
    StreamState state;
    Status s = Link::Connect(cluster_.url_list(), "twinline test", 2000, 5000, nullptr, &link);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return state;
    s = link->Info(spec_, &state);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return state;
  }
  // The stream holds records 1..N exactly once, in order: N messages,
  // sequences 1..N, and its message N carries the primary's chain hash at N
  // (a chain hash covers every record before it).
  void ExpectStreamIsPrefixOf(const std::string& primary, uint64_t* held = nullptr) {
    std::unique_ptr<Link> link;
    ASSERT_TRUE(Link::Connect(cluster_.url_list(), "twinline test", 2000, 5000, nullptr, &link).ok());
    StreamState state;
    ASSERT_TRUE(link->Info(spec_, &state).ok());
    if (held != nullptr) *held = state.last_seq;
    EXPECT_EQ(state.messages, state.last_seq);
    if (state.last_seq == 0) return;
    EXPECT_EQ(state.first_seq, 1u);
    replication::Msg msg;
    ASSERT_TRUE(link->Get(spec_, state.last_seq, &msg).ok());
    EXPECT_EQ(msg.Header(replication::kSeqHeader), std::to_string(state.last_seq));
    std::unique_ptr<EventLog> log;
    OpenOptions options;
    options.read_only = true;
    ASSERT_TRUE(EventLog::Open(primary, options, &log).ok());
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log->BeginRead(&txn).ok());
    Status same = replication::CheckSameChain(msg, state.last_seq, *txn, "stream");
    EXPECT_TRUE(same.ok()) << same.ToString();
  }
  // Waits (at most `limit`) until `db` holds `seq` records.
  bool WaitForSeq(const std::string& db, uint64_t seq, std::chrono::seconds limit = std::chrono::seconds(120)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (LastSeq(db) >= seq) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // The same history in two logs: chain heads, exports, and a replay and a
  // diff answered alike.
  void ExpectSameLog(const std::string& a, const std::string& b) {
    EXPECT_EQ(Head(a), Head(b));
    EXPECT_TRUE(Export(a) == Export(b)) << a << " and " << b << " export differently";
    for (const std::vector<std::string>& q :
         {std::vector<std::string>{"replay", "--as-of", "2000", "--format", "json"},
          std::vector<std::string>{"diff", "1990", "2020", "--projection", "network"}}) {
      const RunResult ra = Tw(a, q), rb = Tw(b, q);
      EXPECT_EQ(ra.exit_code, 0) << ra.err;
      EXPECT_EQ(ra.out, rb.out) << q[0] << " differs between " << a << " and " << b;
    }
  }

  Cluster cluster_;
  std::string stream_;
  StreamSpec spec_;
  TempDir temp_{"twinline-replication"};
  TempDir scratch_{"twinline-replication-run"};
};

TEST_F(ReplicationTest, HundredThousandEventsReachTwoFollowersIdentically) {
  const std::string primary = Db("primary");
  Init(primary);
  Import(primary, Generate(100000));
  ASSERT_EQ(LastSeq(primary), 100000u);

  const auto start = std::chrono::steady_clock::now();
  RunResult r = Tw(primary, Replicate(true));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("holds seqs 1..100000"), std::string::npos) << r.out;
  std::printf("replicate --once: 100000 records to R3 in %.1f s (%.0f records/s)\n", seconds, 100000 / seconds);
  ExpectStreamIsPrefixOf(primary);
  EXPECT_EQ(Stream().replicas, 3);

  for (const std::string name : {"follower-a", "follower-b"}) {
    r = Tw(Db(name), Follow(true));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("this log is at seq 100000"), std::string::npos) << r.out;
  }
  ExpectSameLog(primary, Db("follower-a"));
  ExpectSameLog(primary, Db("follower-b"));

  // Publishing again changes nothing: every record is in the stream once.
  r = Tw(primary, Replicate(true));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Stream().messages, 100000u);
}

TEST_F(ReplicationTest, KilledNatsNodeLosesNothingAndCatchesUpAfterRestart) {
  const std::string primary = Db("primary");
  Init(primary);
  const std::vector<std::string> chunks = Chunks(Generate(12000, 2), 500);
  Import(primary, chunks[0]);
  Child replicate, follower_a, follower_b;
  StartChild(&replicate, primary, Replicate(false), "replicate");
  StartChild(&follower_a, Db("follower-a"), Follow(false), "follower-a");
  StartChild(&follower_b, Db("follower-b"), Follow(false), "follower-b");

  const size_t kill_at = chunks.size() / 3;
  for (size_t i = 1; i < chunks.size(); ++i) {
    if (i == kill_at) {
      // Let some of it reach every node first, then crash node 2.
      ASSERT_TRUE(WaitForSeq(Db("follower-a"), LastSeq(primary)));
      const RunResult k = cluster_.Script({"kill", cluster_.dir(), "2"});
      ASSERT_EQ(k.exit_code, 0) << k.err;
    }
    Import(primary, chunks[i]);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const uint64_t last = LastSeq(primary);
  ASSERT_EQ(last, 12000u);
  EXPECT_TRUE(WaitForSeq(Db("follower-a"), last)) << Stderr("follower-a");
  EXPECT_TRUE(WaitForSeq(Db("follower-b"), last)) << Stderr("follower-b");
  ExpectStreamIsPrefixOf(primary);
  EXPECT_EQ(Stream().messages, last);

  const RunResult restart = cluster_.Script({"restart", cluster_.dir(), "2"});
  ASSERT_EQ(restart.exit_code, 0) << restart.err;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (cluster_.NodeLastSeq(2, stream_) < last && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(cluster_.NodeLastSeq(2, stream_), last) << "node 2 did not catch up";

  EXPECT_EQ(replicate.Stop(), 0) << Stderr("replicate");
  EXPECT_EQ(follower_a.Stop(), 0) << Stderr("follower-a");
  EXPECT_EQ(follower_b.Stop(), 0) << Stderr("follower-b");
  ExpectSameLog(primary, Db("follower-a"));
  ExpectSameLog(primary, Db("follower-b"));
}

TEST_F(ReplicationTest, ReplicateKilledFiftyTimesPublishesEveryRecordExactlyOnce) {
  const std::string primary = Db("primary");
  Init(primary);
  const std::vector<std::string> chunks = Chunks(Generate(20000, 3), 100);
  Import(primary, chunks[0]);
  // Appends go on throughout, from another process.
  std::atomic<bool> stop_appending{false};
  std::atomic<size_t> appended_chunks{1};
  std::thread appender([&] {
    for (size_t i = 1; i < chunks.size() && !stop_appending.load(); ++i) {
      const RunResult r = Tw(primary, {"import", chunks[i]});
      if (r.exit_code != 0) ADD_FAILURE() << "import " << chunks[i] << ": " << r.err;
      appended_chunks = i + 1;
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
  });
  // A follower checks every message as it arrives (its seq is the stream
  // sequence, its record hashes to its chain hash).
  Child follower;
  StartChild(&follower, Db("follower"), Follow(false), "follower");

  std::mt19937 random(17);
  uint64_t previous = 0;
  for (int round = 0; round < 50; ++round) {
    Child replicate;
    StartChild(&replicate, primary, Replicate(false), "replicate");
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(random)));
    replicate.Stop(SIGKILL);
    uint64_t held = 0;
    ExpectStreamIsPrefixOf(primary, &held);
    EXPECT_GE(held, previous);
    previous = held;
    if (HasFailure()) break;
  }
  stop_appending = true;
  appender.join();
  const uint64_t last = LastSeq(primary);
  const RunResult r = Tw(primary, Replicate(true));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  uint64_t held = 0;
  ExpectStreamIsPrefixOf(primary, &held);
  EXPECT_EQ(held, last);
  EXPECT_TRUE(WaitForSeq(Db("follower"), last)) << Stderr("follower");
  EXPECT_EQ(follower.Stop(), 0) << Stderr("follower");
  ExpectSameLog(primary, Db("follower"));
  std::printf("50 SIGKILLs of replicate while %zu chunks were imported: the stream holds seqs 1..%llu once\n",
              appended_chunks.load(), static_cast<unsigned long long>(held));
}

// Publishes, as an impostor, the record `seq` of `primary` altered (a source
// title changed) but with its genuine headers.
void PublishTampered(Link& link, const StreamSpec& spec, const std::string& primary, uint64_t seq) {
  std::unique_ptr<EventLog> log;
  OpenOptions options;
  options.read_only = true;
  ASSERT_TRUE(EventLog::Open(primary, options, &log).ok());
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log->BeginRead(&txn).ok());
  replication::OutgoingRecord genuine;
  ASSERT_TRUE(replication::ReadRecord(*txn, seq, &genuine).ok());
  replication::OutgoingRecord tampered = genuine;
  ASSERT_TRUE(txn->Get(seq, [&](schema::Event::Reader ev) {
                   capnp::MallocMessageBuilder b;
                   b.setRoot(ev);
                   auto sources = b.getRoot<schema::Event>().getSources();
                   ASSERT_GT(sources.size(), 0u);
                   sources[0].setTitle("a title the primary never stored");
                   kj::VectorOutputStream out;
                   capnp::writePackedMessage(out, b);
                   tampered.data.assign(reinterpret_cast<const char*>(out.getArray().begin()), out.getArray().size());
                 }).ok());
  ASSERT_NE(tampered.data, genuine.data);
  replication::Msg msg;
  ASSERT_TRUE(replication::MakeMessage(spec, tampered, &msg).ok());
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.ExpectLastSeq = seq - 1;
  jsPubAck* ack = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_PublishMsg(&ack, link.js(), msg.get(), &po, &code), NATS_OK) << code;
  EXPECT_EQ(ack->Sequence, seq);
  jsPubAck_Destroy(ack);
}

TEST_F(ReplicationTest, TamperedMessageStopsTheFollowerAndLeavesItsLogIntact) {
  const std::string primary = Db("primary");
  Init(primary);
  const std::vector<std::string> chunks = Chunks(Generate(700, 4), 600);
  Import(primary, chunks[0]);
  ASSERT_EQ(Tw(primary, Replicate(true)).exit_code, 0);
  Import(primary, chunks[1]);  // seqs 601..700, never published genuinely
  std::unique_ptr<Link> link;
  ASSERT_TRUE(Link::Connect(cluster_.url_list(), "twinline test", 2000, 5000, nullptr, &link).ok());
  PublishTampered(*link, spec_, primary, 601);

  const std::string follower = Db("follower");
  const RunResult r = Tw(follower, Follow(true));
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("seq 601"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("altered"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("intact at seq 600"), std::string::npos) << r.err;
  EXPECT_EQ(LastSeq(follower), 600u);
  EXPECT_FALSE(Head(follower).empty());  // verify passes
  // The primary, for its part, refuses to publish after a record it does
  // not have at that seq.
  const RunResult again = Tw(primary, Replicate(true));
  EXPECT_EQ(again.exit_code, 4) << again.err;
  EXPECT_NE(again.err.find("does not hold this log's history"), std::string::npos) << again.err;
}

TEST_F(ReplicationTest, FollowerRefusesAStreamThatDoesNotContinueItsLog) {
  const std::string primary = Db("primary"), other = Db("other");
  Init(primary);
  Import(primary, Generate(300, 5));
  ASSERT_EQ(Tw(primary, Replicate(true)).exit_code, 0);
  Init(other);
  Import(other, Generate(200, 6));
  const std::string before = Head(other);
  const RunResult r = Tw(other, Follow(true));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("does not continue this log"), std::string::npos) << r.err;
  EXPECT_EQ(Head(other), before);
}

TEST_F(ReplicationTest, PromotedFollowerTakesOverAndTheOldPrimaryIsRefused) {
  const std::string primary = Db("primary"), follower = Db("follower");
  Init(primary);
  const std::vector<std::string> chunks = Chunks(Generate(900, 7), 300);
  Import(primary, chunks[0]);
  ASSERT_EQ(Tw(primary, Replicate(true)).exit_code, 0);
  ASSERT_EQ(Tw(follower, Follow(true)).exit_code, 0);
  // The primary is lost with a record it never published; while it is away
  // the promoted follower takes writes and publishes them.
  Import(primary, chunks[1]);
  Import(follower, chunks[2]);
  RunResult r = Tw(follower, Replicate(true));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The old primary comes back: the stream moved on without its records.
  r = Tw(primary, Replicate(true));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("does not hold this log's history"), std::string::npos) << r.err;
  uint64_t held = 0;
  ExpectStreamIsPrefixOf(follower, &held);
  EXPECT_EQ(held, 600u);
}

TEST_F(ReplicationTest, ServeReplicatesAndAFollowersServeIsReadOnlyAndSaysHowFarBehind) {
  const std::string primary = Db("primary"), follower = Db("follower");
  Init(primary);
  Import(primary, Generate(200, 8));
  test::ServerProcess primary_server, follower_server;
  std::string error;
  ASSERT_TRUE(primary_server.Start(kBin, primary, {"--replicate", cluster_.urls(), "--stream", stream_},
                                   scratch_.path(), &error))
      << error;
  ASSERT_TRUE(follower_server.Start(kBin, follower, {"--follow", cluster_.urls(), "--stream", stream_},
                                    scratch_.path(), &error))
      << error;
  int status = 0;
  const std::string event =
      R"({"kind":"entity_registered","date":"2024","entity":"replica-town","type":"city","country":"DE",)"
      R"("names":[{"text":"Replica Town","lang":"en"}],)"
      R"("sources":[{"title":"t","publisher":"p","published":"2024","language":"en"}]})";
  std::string answer = Http(primary_server.port(), "POST", "/v1/events", event, &status);
  ASSERT_EQ(status, 200) << answer;
  ASSERT_TRUE(WaitForSeq(follower, 201, std::chrono::seconds(30)));

  nlohmann::json health;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    health = nlohmann::json::parse(Http(follower_server.port(), "GET", "/v1/health", "", &status));
  } while (health["replication"]["applied_seq"] != 201 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(health["read_only"], true);
  EXPECT_EQ(health["replication"]["role"], "follower");
  EXPECT_EQ(health["replication"]["applied_seq"], 201);
  EXPECT_EQ(health["replication"]["behind"], 0);
  EXPECT_EQ(health["last_seq"], 201);

  answer = Http(follower_server.port(), "POST", "/v1/events", event, &status);
  EXPECT_EQ(status, 403);
  EXPECT_NE(answer.find("read replica"), std::string::npos) << answer;

  health = nlohmann::json::parse(Http(primary_server.port(), "GET", "/v1/health", "", &status));
  EXPECT_EQ(health["replication"]["role"], "primary");
  EXPECT_EQ(health["replication"]["stream_seq"], 201);
  EXPECT_EQ(primary_server.Stop(), 0);
  EXPECT_EQ(follower_server.Stop(), 0);
  ExpectSameLog(primary, follower);
}

}  // namespace
}  // namespace twinline
