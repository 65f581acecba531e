#pragma once
// Reading a TOML input file by one set of rules, whatever the file is (sweep, run config,
// paper spec): a syntax error, an unknown key, a wrong type or a bad value is a ConfigError
// that names the file, the line and the key path, in one line.
#include <toml++/toml.h>

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ternbench::tomlread {

// toml::parse with its parse_error turned into a ConfigError ("TOML syntax error: ...").
toml::table parse(std::string_view text, const std::string& file);

int line_of(const toml::node& node);
int line_of(const toml::key& key);

// "table", "list", "string", "integer", "float", ... for error messages.
std::string_view type_name(const toml::node& node);

// Throws ConfigError for the first key (in file order) of t not in valid, suggesting the
// closest valid key. hint(key) may add where a misplaced key belongs ("" for nothing).
void reject_unknown_keys(const toml::table& t, const std::string& file, const std::string& path,
                         const std::vector<std::string>& valid,
                         const std::function<std::string(const std::string&)>& hint = {});

// The table at key in root, or nullptr if absent; ConfigError if it is not a table.
const toml::table* sub_table(const toml::table& root, const std::string& key, const std::string& file);

// One table read key by key with typed getters. The keys asked for are the valid ones:
// reject_unknown() after the last getter refuses anything else in the table.
class Reader {
 public:
  // path is the table's key path in the file ("" for the root, "claim[2]" for an entry).
  Reader(const toml::table& t, std::string file, std::string path);

  [[noreturn]] void fail(const std::string& key, const toml::node* n, const std::string& what) const;
  std::string key_path(const std::string& key) const;
  const std::string& file() const { return file_; }
  const toml::node* get(const std::string& key);

  // A string; when absent, an error if required, else fallback.
  std::string text(const std::string& key, bool required, const std::string& fallback = "");
  // An integer or float; *present says whether the key was given.
  double number(const std::string& key, double fallback, bool* present = nullptr);
  int integer(const std::string& key, int fallback, int lo);
  // A string out of options; required when fallback is "".
  std::string choice(const std::string& key, const std::vector<std::string>& options, const std::string& fallback);
  std::vector<std::string> strings(const std::string& key);
  const toml::table* table(const std::string& key);
  const toml::array* array_of_tables(const std::string& key);
  void reject_unknown() const;

 private:
  const toml::table& t_;
  std::string file_, path_;
  std::set<std::string> read_;
};

}  // namespace ternbench::tomlread
