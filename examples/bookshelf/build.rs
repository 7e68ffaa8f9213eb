//! Generates the bookshelf API; its one hook lives in this crate.

fn main() {
    keygate_codegen::build::run(&keygate_codegen::build::BuildConfig {
        schema: "schema.yaml",
        hook_modules: &[("crate::hooks", "src/hooks.rs")],
    });
}
