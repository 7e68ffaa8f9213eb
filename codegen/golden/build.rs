//! Generates the Rust of every valid fixture (`codegen/tests/fixtures/ok/*.yaml`) into its own
//! directory of `OUT_DIR`, and `fixtures.rs`, one module per fixture, for `lib.rs` to include.
//!
//! Generated code names its siblings from the crate root (`crate::entities::...`,
//! `crate::dto::...`), as it does in `keygate-api`. Here each fixture lives in a module of its
//! own, so those two paths are rewritten to `crate::FIXTURE::entities::...`; hooks stay
//! `crate::hooks`, the one fixture hook module every schema shares.

use std::path::{Path, PathBuf};
use std::{env, fs};

use keygate_codegen::Generator;

const FIXTURES: &str = "../tests/fixtures/ok";
const HOOKS: &str = "../tests/fixtures/hooks.rs";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let hooks = manifest_dir.join(HOOKS);
    println!("cargo::rerun-if-changed={}", hooks.display());
    let generator = Generator::new()
        .hook_module("crate::hooks", &read(&hooks))
        .unwrap_or_else(|error| panic!("{}: {}", hooks.display(), error.message));
    let fixtures_dir = manifest_dir.join(FIXTURES);
    println!("cargo::rerun-if-changed={}", fixtures_dir.display());
    let mut fixtures: Vec<PathBuf> = fs::read_dir(&fixtures_dir)
        .unwrap_or_else(|error| panic!("{}: {error}", fixtures_dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    fixtures.sort();
    let modules: String = fixtures.iter().map(|path| generate(&generator, path, &out_dir)).collect();
    write(&out_dir.join("fixtures.rs"), &modules);
}

/// Generates one fixture into `OUT_DIR/MODULE/` and returns its module declaration.
fn generate(generator: &Generator, path: &Path, out_dir: &Path) -> String {
    println!("cargo::rerun-if-changed={}", path.display());
    let file_name = path.file_name().expect("a file").to_string_lossy().into_owned();
    let module = format!("fixture_{}", file_name.trim_end_matches(".yaml"));
    let source = read(path);
    let files = generator.generate(&source).unwrap_or_else(|diagnostics| {
        panic!("{file_name} does not generate:\n{}", diagnostics.render(&file_name, &source))
    });
    let dir = out_dir.join(&module);
    fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
    let mut includes = String::new();
    for file in files.iter().filter(|file| file.name.ends_with(".rs")) {
        let contents = file
            .contents
            .replace("crate::entities::", &format!("crate::{module}::entities::"))
            .replace("crate::dto::", &format!("crate::{module}::dto::"));
        write(&dir.join(&file.name), &contents);
        let name = file.name.trim_end_matches(".rs");
        includes.push_str(&format!(
            "    pub mod {name} {{\n        include!(concat!(env!(\"OUT_DIR\"), \"/{module}/{}\"));\n    }}\n",
            file.name
        ));
    }
    format!("/// What `{file_name}` generates.\npub mod {module} {{\n{includes}}}\n")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Writes only on change, so an unchanged fixture does not invalidate rustc's cache.
fn write(path: &Path, contents: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(contents) {
        fs::write(path, contents).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    }
}
