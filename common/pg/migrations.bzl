"""pg_migrations: embeds numbered .sql migrations in a binary."""

def pg_migrations(name, srcs, **kwargs):
    """A cc_library exposing the migrations in `srcs` to C++.

    Each file is named NNNN_title.sql (e.g. 0001_create_tenants.sql). The library's header,
    "<package>/<name>.h", declares

        namespace bastion::migrations {
        const std::vector<bastion::pg::Migration>& <name>();
        }

    returning the migrations sorted by version, ready for bastion::pg::Migrate. A bad file name or
    a repeated version fails the build.
    """
    pkg = native.package_name()
    header = name + ".h"
    include = (pkg + "/" + header) if pkg else header
    native.genrule(
        name = name + "_gen",
        srcs = srcs,
        outs = [header, name + ".cc"],
        tools = ["//common/pg:embed_migrations"],
        cmd = "$(location //common/pg:embed_migrations) %s %s $(location %s) $(location %s.cc) $(SRCS)" %
              (name, include, header, name),
    )
    native.cc_library(
        name = name,
        srcs = [name + ".cc"],
        hdrs = [header],
        deps = ["//common/pg:migrate_lib"],
        **kwargs
    )
