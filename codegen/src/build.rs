//! The whole job of a `build.rs` that turns a schema into code: read, generate into `OUT_DIR`,
//! and on a schema mistake print located errors and fail the build.

use std::path::{Path, PathBuf};
use std::{env, fs, process};

use crate::Generator;

/// What a build script generates from.
pub struct BuildConfig<'a> {
    /// Path of the schema, relative to the crate's manifest directory.
    pub schema: &'a str,
    /// `(Rust module path, source file)` of each hook module, e.g.
    /// `("::keygate_runtime::hooks", "../runtime/src/hooks.rs")`.
    pub hook_modules: &'a [(&'a str, &'a str)],
}

/// Generates into `OUT_DIR`. Exits the process with status 1 (failing the build) on any error,
/// after printing each as `cargo::error=schema.yaml:LINE:COL: ...` and a rustc-style rendering.
pub fn run(config: &BuildConfig<'_>) {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| ".".into()));
    let out_dir = match env::var_os("OUT_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => fail("OUT_DIR is not set; run this from a build script"),
    };
    let schema_path = manifest_dir.join(config.schema);
    println!("cargo::rerun-if-changed={}", schema_path.display());
    let mut generator = Generator::new();
    for (module, file) in config.hook_modules {
        let path = manifest_dir.join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        let source = read(&path);
        generator = match generator.hook_module(module, &source) {
            Ok(generator) => generator,
            Err(error) => fail(&format!("{}: cannot read hooks: {}", path.display(), error.message)),
        };
    }
    let source = read(&schema_path);
    let display_name = Path::new(config.schema)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| config.schema.to_owned());
    match generator.generate(&source) {
        Ok(files) => {
            for file in files {
                let path = out_dir.join(&file.name);
                // Rewrite only on change, so an unchanged schema does not invalidate rustc's cache.
                if fs::read_to_string(&path).ok().as_deref() != Some(file.contents.as_str())
                    && let Err(error) = fs::write(&path, &file.contents)
                {
                    fail(&format!("cannot write {}: {error}", path.display()));
                }
            }
        }
        Err(diagnostics) => {
            eprintln!("{}", diagnostics.render(&display_name, &source));
            for diagnostic in diagnostics.iter() {
                println!("cargo::error={}", diagnostic.one_line(&display_name));
            }
            process::exit(1);
        }
    }
}

fn read(path: &Path) -> String {
    match fs::read_to_string(path) {
        Ok(source) => source,
        Err(error) => fail(&format!("cannot read {}: {error}", path.display())),
    }
}

fn fail(message: &str) -> ! {
    println!("cargo::error={message}");
    process::exit(1);
}
