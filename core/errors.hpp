#pragma once
// One root for every error hpsearch raises on purpose: code throws these, never a bare
// std::runtime_error or std::invalid_argument, so that every catch site can tell what it holds.
//
// UserError is a mistake the user can fix (a bad space file, a missing data folder, a wrong
// database): the CLI prints its message alone and exits with code 2, before anything is written.
// Anything else deriving from Error is a fault of one trial or of the run, reported with context.
#include <stdexcept>
#include <string>

namespace hpsearch {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class UserError : public Error {
 public:
  using Error::Error;
};

// A mistake inside a file the user wrote: the message reads "FILE: PATH: what is wrong".
class FileError : public UserError {
 public:
  FileError(const std::string& file, const std::string& json_path, const std::string& what)
      : UserError(file + ": " + (json_path.empty() ? std::string() : json_path + ": ") + what),
        file_(file),
        json_path_(json_path),
        problem_(what) {}
  // The parts of the message, so that an error about a value the command line set (--set) can
  // name that flag instead of the file.
  const std::string& file() const { return file_; }
  const std::string& json_path() const { return json_path_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string file_, json_path_, problem_;
};

// A value of a trial's resolved configuration that its trainer cannot use: "KEY: what is wrong".
// In a search the trial FAILs with this reason (the sampler chose the value from the space); in
// `hpsearch train` it is the user's file, named by the command (exit 2).
class ConfigError : public UserError {
 public:
  using UserError::UserError;
};

}  // namespace hpsearch
