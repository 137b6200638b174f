"""A repository of cc_library targets for libraries installed from Debian's packages.

Headers live in /usr/include, which the compiler searches already; what each target adds is
its link flags, read from pkg-config when the repository is fetched (offline, no download).
"""

# target name -> (pkg-config modules, extra linkopts)
_LIBS = {
    "absl": ([
        "absl_base",
        "absl_flags",
        "absl_flags_parse",
        "absl_flags_usage",
        "absl_hash",
        "absl_raw_hash_set",
        "absl_random_random",
        "absl_status",
        "absl_statusor",
        "absl_str_format",
        "absl_strings",
        "absl_synchronization",
        "absl_time",
        "absl_cleanup",
    ], []),
    "protobuf": (["protobuf"], []),
    "grpc": (["grpc++"], ["-lgrpc++_reflection"]),
    "pq": (["libpq"], []),
    "curl": (["libcurl"], []),
    "openssl": (["libssl", "libcrypto"], []),
    "boost": ([], ["-lboost_json", "-lpthread"]),
    "valijson": ([], []),
    "gtest": (["gtest", "gmock"], []),
    "gtest_main": (["gtest_main"], []),
    "benchmark": (["benchmark"], ["-lpthread"]),
    "benchmark_main": ([], ["-lbenchmark_main"]),
}

_DEPS = {
    "grpc": ["absl", "protobuf", "openssl"],
    "gtest_main": ["gtest"],
    "benchmark_main": ["benchmark"],
}

def _pkg_config_libs(ctx, modules):
    if not modules:
        return []
    result = ctx.execute(["pkg-config", "--libs"] + modules)
    if result.return_code != 0:
        fail("pkg-config --libs %s failed: %s\nRun bazel/setup to install the build dependencies." %
             (" ".join(modules), result.stderr))
    flags = []
    for flag in result.stdout.strip().split(" "):
        if flag and flag not in flags:
            flags.append(flag)
    return flags

def _system_libs_impl(ctx):
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, (modules, extra) in _LIBS.items():
        linkopts = _pkg_config_libs(ctx, modules) + extra
        deps = repr([":" + d for d in _DEPS.get(name, [])])
        if name == "absl":
            # Under --config=tsan, Abseil's synchronization is annotated for ThreadSanitizer
            # (tests/sanitizers/absl_tsan_annotations.cc).
            deps += ' + select({"@//tests/sanitizers:tsan": ["@//tests/sanitizers:absl_tsan_annotations"], ' + \
                    '"//conditions:default": []})'
        lines.append("cc_library(")
        lines.append('    name = "%s",' % name)
        lines.append("    linkopts = %s," % repr(linkopts))
        lines.append("    deps = %s," % deps)
        lines.append(")")
        lines.append("")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", "\n".join(lines))

system_libs = repository_rule(
    implementation = _system_libs_impl,
    local = True,
    environ = ["PKG_CONFIG_PATH"],
)
