"""bastion_fuzzer: one libFuzzer target per parser of outside input.

Built with `--config=fuzz` (clang-14, -fsanitize=fuzzer,address,undefined; tests/fuzz/run does
this in its own output base) it is a libFuzzer binary. In the normal gcc build the same source
links replay_main.cc instead, and `<name>_corpus_test` replays the committed seed corpus and the
crash inputs, so every input that ever crashed a target stays a test.
"""

def bastion_fuzzer(name, srcs, deps = [], data = []):
    corpus = native.glob(["corpus/%s/**" % name])
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps + select({
            ":fuzzing": [],
            "//conditions:default": [":replay_main_lib"],
        }),
        linkopts = select({
            ":fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        data = data,
        tags = ["fuzzer"],
        testonly = True,
    )
    native.cc_test(
        name = name + "_corpus_test",
        srcs = srcs,
        deps = deps + [":replay_main_lib"],
        args = ["tests/fuzz/corpus/%s" % name],
        data = data + corpus,
        size = "small",
        testonly = True,
    )
