#pragma once
// Reading a trainer's settings object with errors that name the space file and the key.
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

#include "core/errors.hpp"

namespace hpsearch {

class TrainerSettings {
 public:
  TrainerSettings(const nlohmann::json& settings, std::string file) : settings_(settings), file_(std::move(file)) {}

  // Every key must be one of `known` ("type" is always allowed): a typo would waste GPU hours.
  void allow_only(std::initializer_list<const char*> known) const {
    for (auto it = settings_.begin(); it != settings_.end(); ++it) {
      bool ok = it.key() == "type";
      for (const char* k : known) ok = ok || it.key() == k;
      if (!ok) throw FileError(file_, "trainer." + it.key(), "unknown setting of the " + type() + " trainer");
    }
  }
  std::string type() const { return settings_.value("type", std::string()); }
  bool has(const char* key) const { return settings_.contains(key); }

  std::string string(const char* key, const std::string& fallback) const {
    if (!settings_.contains(key)) return fallback;
    if (!settings_[key].is_string()) fail(key, "must be a string, got " + settings_[key].dump());
    return settings_[key].get<std::string>();
  }
  double number(const char* key, double fallback, double min_value) const {
    if (!settings_.contains(key)) return fallback;
    if (!settings_[key].is_number() || settings_[key].get<double>() < min_value) {
      fail(key, "must be a number >= " + nlohmann::json(min_value).dump() + ", got " + settings_[key].dump());
    }
    return settings_[key].get<double>();
  }
  const nlohmann::json& raw(const char* key) const { return settings_.at(key); }
  [[noreturn]] void fail(const char* key, const std::string& what) const { throw FileError(file_, std::string("trainer.") + key, what); }
  const std::string& file() const { return file_; }

 private:
  const nlohmann::json& settings_;
  std::string file_;
};

}  // namespace hpsearch
