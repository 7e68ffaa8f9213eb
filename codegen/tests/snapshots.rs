//! Snapshots of what the generator says and writes.
//!
//! `fixtures/err/*.yaml`: one schema mistake each (several in `14_several_errors`); the snapshot
//! is the rendered diagnostic a user sees in `cargo build`. Never renumber fixtures.
//! `fixtures/ok/*.yaml`: small valid schemas; one snapshot per generated file.
//! Review changes with `cargo insta review`, like code.

use keygate_codegen::Generator;

fn generator() -> Generator {
    Generator::new().hook_module("crate::hooks", include_str!("fixtures/hooks.rs")).expect("fixture hooks parse")
}

#[test]
fn schema_mistakes_are_located_and_explained() {
    insta::glob!("fixtures/err/*.yaml", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let diagnostics = match generator().generate(&source) {
            Ok(_) => panic!("{name} should not generate"),
            Err(diagnostics) => diagnostics,
        };
        let one_lines: Vec<String> = diagnostics.iter().map(|d| d.one_line("schema.yaml")).collect();
        insta::assert_snapshot!(format!(
            "{}\n--- cargo::error lines ---\n{}",
            diagnostics.render("schema.yaml", &source),
            one_lines.join("\n")
        ));
    });
}

#[test]
fn valid_schemas_generate_plain_rust() {
    insta::glob!("fixtures/ok/*.yaml", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let files = generator().generate(&source).unwrap_or_else(|d| panic!("{}", d.render("schema.yaml", &source)));
        for file in files.iter().filter(|f| f.name.ends_with(".rs")) {
            insta::assert_snapshot!(file.name.clone(), file.contents);
        }
    });
}

#[test]
fn role_mistakes_name_the_role_and_the_missing_fields() {
    let source =
        std::fs::read_to_string(format!("{}/tests/fixtures/err/21_role_binding.yaml", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let diagnostics = generator().generate(&source).unwrap_err();
    let codes: Vec<_> = diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        codes,
        ["unknown-role", "role-binding", "role-binding"],
        "{}",
        diagnostics.render("schema.yaml", &source)
    );
}

#[test]
fn every_error_fixture_fails_for_its_own_reason() {
    // Guards against a fixture that fails for an unrelated reason (e.g. a typo in the fixture).
    let expected = [
        ("01_yaml_syntax", "yaml-syntax"),
        ("02_unknown_key", "unknown-key"),
        ("03_unknown_field_type", "unknown-type"),
        ("04_unknown_hook", "unknown-hook"),
        ("05_hook_wrong_phase", "hook-phase"),
        ("06_duplicate_route", "duplicate-route"),
        ("07_filter_undeclared_field", "unknown-list-field"),
        ("08_fk_missing_entity", "unknown-entity"),
        ("09_virtual_shadows_field", "virtual-shadows-field"),
        ("10_no_primary_key", "no-primary-key"),
        ("11_hook_binding", "hook-binding"),
        ("12_column_never_set", "column-never-set"),
        ("13_custom_op_without_action", "unknown-op"),
        ("15_duplicate_key", "duplicate-key"),
        ("16_bad_route", "bad-http"),
        ("17_unquoted_braces", "yaml-syntax"),
        ("18_missing_type", "missing-type"),
        ("19_hook_on_list", "hook-on-read"),
        ("20_unknown_handler", "unknown-handler"),
        ("26_bad_errors", "bad-errors"),
        ("27_unique_across", "bad-unique"),
    ];
    for (fixture, code) in expected {
        let source =
            std::fs::read_to_string(format!("{}/tests/fixtures/err/{fixture}.yaml", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        let diagnostics = generator().generate(&source).unwrap_err();
        let codes: Vec<_> = diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert!(codes.iter().all(|c| *c == code), "{fixture}: expected only `{code}`, got {codes:?}");
    }
}

#[test]
fn all_problems_are_reported_in_one_build() {
    let source =
        std::fs::read_to_string(format!("{}/tests/fixtures/err/14_several_errors.yaml", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let diagnostics = generator().generate(&source).unwrap_err();
    assert!(diagnostics.len() >= 4, "expected every mistake at once, got {}", diagnostics.len());
    let lines: Vec<_> = diagnostics.iter().map(|d| d.pos.line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "diagnostics come in source order");
}
