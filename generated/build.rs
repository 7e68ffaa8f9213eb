//! Generates Keygate's API from `schema.yaml`; hooks and endpoint handlers are the functions in the
//! runtime's hook and endpoint tables.

fn main() {
    keygate_codegen::build::run(&keygate_codegen::build::BuildConfig {
        schema: "../schema.yaml",
        hook_modules: &[
            ("::keygate_runtime::hooks", "../runtime/src/hooks.rs"),
            ("::keygate_runtime::endpoints", "../runtime/src/endpoints.rs"),
            ("::keygate_runtime::roles", "../runtime/src/roles.rs"),
            ("::keygate_runtime::vocab", "../runtime/src/vocab.rs"),
        ],
    });
}
