#!/usr/bin/env python3
"""Checks that the code follows the layering that CMakeLists.txt declares.

    tools/check-layers.py SOURCE_DIR BUILD_DIR              (test layers.check)
    tools/check-layers.py --self-test SOURCE_DIR BUILD_DIR  (test layers.self_test)

The declarations come from BUILD_DIR/layers.txt, which CMake writes from the hpsearch_library()
calls: one line per library, "folder|target|depends|external|torch". The rules:

1. Includes. A source in a library's folder (or in tests/FOLDER/, its tests) includes, with
   "quotes", only files of its own library or of the libraries in its DEPENDS closure.
2. What a library may never see (FORBIDDEN below): LibTorch, MPI or SQLite headers in its sources
   or its tests, such libraries in its declared links, and (after a build) in the shared objects
   its test and link-check executables ask for (NEEDED), so that a declaration cannot lie either.
3. Links. CMake builds, for every library, an executable that takes the whole library and only
   what it declares (hpsearch_library's link check): a symbol from an undeclared library fails
   the build. This script checks that those executables were built.

--self-test plants a forbidden include in a copy of the tree and expects rule 1 and rule 2 to
catch it, so that a checker that stopped checking fails too.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

# What each library must never reach, whatever it declares. The reasons are the architecture's:
# the core of the search builds and tests without LibTorch; the master's storage needs no MPI;
# the samplers are pure; the master reaches neither trainers nor workers.
FORBIDDEN = {
    "core": {"torch", "mpi", "sqlite"},
    "search": {"torch", "mpi", "sqlite"},
    "study": {"torch", "mpi"},
    "protocol": {"torch", "sqlite"},
    "orchestrator": {"torch", "folder:trainers/core", "folder:trainers/torch", "folder:worker", "folder:comm"},
    "trainers/core": {"torch", "mpi", "sqlite"},
    "comm": {"sqlite", "folder:trainers/core", "folder:trainers/torch", "folder:worker"},
    "trainers/torch": {"sqlite", "folder:worker", "folder:orchestrator", "folder:protocol"},
    "worker": {"sqlite", "folder:orchestrator", "folder:study"},
}
HEADERS = {
    "torch": re.compile(r"#\s*include\s*<(torch|ATen|c10)/"),
    "mpi": re.compile(r"#\s*include\s*<mpi\.h>"),
    "sqlite": re.compile(r"#\s*include\s*<sqlite3\.h>"),
}
SHARED_OBJECTS = {"torch": re.compile(r"lib(torch|c10)"), "mpi": re.compile(r"libmpi"), "sqlite": re.compile(r"libsqlite3")}
EXTERNAL = {"torch": re.compile(r"torch", re.I), "mpi": re.compile(r"MPI"), "sqlite": re.compile(r"SQLite", re.I)}
QUOTED = re.compile(r'#\s*include\s*"([^"]+)"')


def read_layers(build_dir):
    layers = {}
    with open(os.path.join(build_dir, "layers.txt")) as f:
        for line in f:
            if not line.strip():
                continue
            folder, target, depends, external, torch = line.rstrip("\n").split("|")
            layers[folder] = {
                "target": target,
                "depends": [d for d in depends.split(",") if d],
                "external": [e for e in external.split(",") if e],
                "torch": torch == "1",
            }
    return layers


def closure(layers, folder):
    seen, pending = set(), [folder]
    while pending:
        f = pending.pop()
        if f in seen:
            continue
        seen.add(f)
        pending.extend(layers[f]["depends"])
    return seen


def library_of(layers, path):
    """The library folder a file (relative to the source root) belongs to, longest match."""
    best = None
    for folder in layers:
        if path.startswith(folder + "/") and (best is None or len(folder) > len(best)):
            best = folder
    return best


def sources(root, folder):
    for dirpath, _, names in os.walk(os.path.join(root, folder)):
        for name in sorted(names):
            if name.endswith((".cpp", ".hpp", ".h", ".cc")):
                yield os.path.relpath(os.path.join(dirpath, name), root)


def check_sources(root, layers):
    problems = []
    for folder in sorted(layers):
        allowed = closure(layers, folder)
        reached_kinds = set()
        for f in allowed:
            if layers[f]["torch"]:
                reached_kinds.add("torch")
            for e in layers[f]["external"]:
                for kind, pattern in EXTERNAL.items():
                    if pattern.search(e):
                        reached_kinds.add(kind)
        files = [(p, "library") for p in sources(root, folder) if library_of(layers, p) == folder]
        test_dir = os.path.join("tests", folder)
        if os.path.isdir(os.path.join(root, test_dir)):
            files += [(p, "tests") for p in sources(root, test_dir)
                      if os.path.dirname(p) == test_dir]
        for path, role in files:
            text = open(os.path.join(root, path), encoding="utf-8", errors="replace").read()
            for included in QUOTED.findall(text):
                target = library_of(layers, included)
                if target is None:
                    if not os.path.exists(os.path.join(root, os.path.dirname(path), included)):
                        problems.append(f"{path}: includes \"{included}\", which is in no library folder")
                    continue
                if target not in allowed:
                    problems.append(f"{path}: includes \"{included}\": {folder}/ does not depend on {target}/ "
                                    f"(its DEPENDS closure: {', '.join(sorted(allowed))})")
                if "folder:" + target in FORBIDDEN.get(folder, set()):
                    problems.append(f"{path}: includes \"{included}\": {folder}/ may never reach {target}/")
            for kind, pattern in HEADERS.items():
                if pattern.search(text):
                    if kind in FORBIDDEN.get(folder, set()):
                        problems.append(f"{path}: includes a {kind} header; {folder}/ must build without {kind}")
                    elif kind not in reached_kinds:
                        problems.append(f"{path}: includes a {kind} header, but {folder}/ does not declare it")
    return problems


def check_declarations(layers):
    problems = []
    for folder, rules in FORBIDDEN.items():
        if folder not in layers:
            problems.append(f"CMakeLists.txt declares no library for {folder}/")
            continue
        for dep in closure(layers, folder):
            for kind in rules:
                if kind.startswith("folder:"):
                    if dep == kind[len("folder:"):]:
                        problems.append(f"{folder}/ depends on {dep}/ (through its DEPENDS), which it may never reach")
                    continue
                if kind == "torch" and layers[dep]["torch"]:
                    problems.append(f"{folder}/ links LibTorch through {dep}/")
                for e in layers[dep]["external"]:
                    if EXTERNAL[kind].search(e):
                        problems.append(f"{folder}/ links {e} through {dep}/")
    return problems


def check_binaries(build_dir, layers):
    problems = []
    for folder, info in sorted(layers.items()):
        target = info["target"]
        link_check = os.path.join(build_dir, target + "_link_check")
        for binary in (link_check, os.path.join(build_dir, "tests", target + "_tests")):
            if not os.path.exists(binary):
                if binary == link_check and not os.path.exists(os.path.join(build_dir, "CMakeFiles", target + "_link_check.dir")):
                    continue  # a header-only library has no link check
                if binary.endswith("_tests") and not os.path.isdir(os.path.join(build_dir, "tests", "CMakeFiles", target + "_tests.dir")):
                    continue  # no tests of its own
                problems.append(f"{binary}: not built (build first: cmake --build {build_dir})")
                continue
            # The shared objects the binary itself asks for (LibTorch loads SQLite for its own use:
            # what a dependency loads is not this library's link).
            dump = subprocess.run(["objdump", "-p", binary], capture_output=True, text=True).stdout
            loaded = " ".join(line.split()[1] for line in dump.splitlines() if line.strip().startswith("NEEDED"))
            for kind in FORBIDDEN.get(folder, set()):
                if kind in SHARED_OBJECTS and SHARED_OBJECTS[kind].search(loaded):
                    names = sorted(set(m.group(0) for m in re.finditer(r"\S*" + SHARED_OBJECTS[kind].pattern + r"\S*", loaded)))
                    problems.append(f"{os.path.basename(binary)} loads {', '.join(names)}: {folder}/ must not link {kind}")
    return problems


def run(root, build_dir, with_binaries=True):
    layers = read_layers(build_dir)
    problems = check_declarations(layers) + check_sources(root, layers)
    if with_binaries:
        problems += check_binaries(build_dir, layers)
    return problems


def self_test(root, build_dir):
    layers = read_layers(build_dir)
    with tempfile.TemporaryDirectory() as tmp:
        for folder in set(f.split("/")[0] for f in layers) | {"tests"}:
            if os.path.isdir(os.path.join(root, folder)):
                shutil.copytree(os.path.join(root, folder), os.path.join(tmp, folder))
        if run(tmp, build_dir, with_binaries=False):
            print("self-test: the unchanged copy already fails")
            return 1
        planted = {
            "search/space.cpp": '#include "worker/mpi_worker.hpp"\n',
            "study/study_spec.cpp": "#include <torch/torch.h>\n",
            "orchestrator/master.cpp": '#include "trainers/core/trainer.hpp"\n',
        }
        for path, line in planted.items():
            with open(os.path.join(tmp, path), "a") as f:
                f.write(line)
        found = run(tmp, build_dir, with_binaries=False)
        missed = [p for p in planted if not any(problem.startswith(p + ":") for problem in found)]
        if missed:
            print("self-test: the planted violations in " + ", ".join(missed) + " were not caught")
            return 1
    print(f"self-test: {len(planted)} planted violations caught")
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "--self-test":
        return self_test(argv[2], argv[3])
    if len(argv) != 3:
        print(__doc__)
        return 2
    problems = run(argv[1], argv[2])
    for p in problems:
        print(p)
    if problems:
        print(f"check-layers: {len(problems)} violation(s) of the layering declared in CMakeLists.txt")
        return 1
    print("check-layers: every include and link follows CMakeLists.txt's DEPENDS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
