//! What `schema.yaml` generates, as reviewed snapshots. A schema edit shows up in review as a diff
//! of these files; `cargo insta review` accepts it. CI fails on a stale snapshot.

/// The generator as `build.rs` configures it.
fn generator() -> keygate_codegen::Generator {
    keygate_codegen::Generator::new()
        .hook_module("::keygate_runtime::hooks", include_str!("../../runtime/src/hooks.rs"))
        .and_then(|g| g.hook_module("::keygate_runtime::endpoints", include_str!("../../runtime/src/endpoints.rs")))
        .and_then(|g| g.hook_module("::keygate_runtime::roles", include_str!("../../runtime/src/roles.rs")))
        .and_then(|g| g.hook_module("::keygate_runtime::vocab", include_str!("../../runtime/src/vocab.rs")))
        .expect("runtime hook and endpoint modules parse")
}

#[test]
fn generated_code_matches_the_reviewed_snapshots() {
    let schema = include_str!("../../schema.yaml");
    let files = generator().generate(schema).unwrap_or_else(|d| panic!("{}", d.render("schema.yaml", schema)));
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for file in files {
            insta::assert_snapshot!(file.name.clone(), file.contents);
        }
    });
}

#[test]
fn the_build_uses_what_the_snapshot_shows() {
    // The crate was compiled from the same schema: its embedded documents equal a fresh generation.
    let schema = include_str!("../../schema.yaml");
    let generator = generator();
    let files = generator.generate(schema).unwrap();
    let openapi = files.iter().find(|f| f.name == "openapi.json").unwrap();
    assert_eq!(openapi.contents, keygate_api::OPENAPI);
    let compiled = files.iter().find(|f| f.name == "schema.json").unwrap();
    assert_eq!(compiled.contents, keygate_api::SCHEMA);
}
