"""cc_grpc_library: compiles .proto files with Debian's protoc and grpc_cpp_plugin."""

def cc_grpc_library(name, srcs, deps = [], grpc = True, **kwargs):
    """C++ messages (and gRPC stubs when grpc=True) for `srcs`, as one cc_library.

    Paths resolve from the workspace root: a proto imports another as
    "proto/bastion/<service>/v1/<file>.proto" and C++ includes
    "proto/bastion/<service>/v1/<file>.grpc.pb.h". `deps` are other cc_grpc_library targets.
    """
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    pkg = native.package_name()
    out_root = "$(GENDIR)"
    plugin = "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin --grpc_out=%s " % out_root if grpc else ""
    native.genrule(
        name = name + "_gen",
        srcs = srcs + [d + "_srcs" for d in deps],
        outs = outs,
        cmd = ("/usr/bin/protoc -I. -I/usr/include --cpp_out=%s %s" % (out_root, plugin)) +
              " ".join(["%s/%s" % (pkg, s) for s in srcs]),
    )
    native.filegroup(name = name + "_srcs", srcs = srcs + [d + "_srcs" for d in deps])
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["@system//:grpc", "@system//:protobuf"],
        **kwargs
    )
