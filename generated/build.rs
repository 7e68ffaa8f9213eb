//! Generates Keygate's API from `schema.yaml`; hooks are the functions in the runtime's hook table.

fn main() {
    keygate_codegen::build::run(&keygate_codegen::build::BuildConfig {
        schema: "../schema.yaml",
        hook_modules: &[("::keygate_runtime::hooks", "../runtime/src/hooks.rs")],
    });
}
