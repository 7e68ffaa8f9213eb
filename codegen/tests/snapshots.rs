//! Snapshots of what the generator says and writes.
//!
//! `fixtures/err/*.yaml`: one schema mistake each, or one concern's mistakes (several in
//! `14_several_errors`); the snapshot is the rendered diagnostics a user sees in `cargo build`,
//! and the last line of the fixture names the codes it must produce (`# expect: CODE, ...`).
//! Together they produce every code of the catalogue. Never renumber fixtures.
//! `fixtures/ok/*.yaml`: small valid schemas; one snapshot per generated file, and `codegen/golden`
//! (`keygate-golden`) compiles what they generate with warnings denied.
//! Review changes with `cargo insta review`, like code.

use std::collections::BTreeSet;

use keygate_codegen::{Code, Diagnostics, Generator};

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

/// The codes a failing fixture declares on its last line, `# expect: CODE[, CODE...]` (at the
/// end, so the comment moves no position in the snapshot).
fn expected_codes(source: &str) -> Result<BTreeSet<&str>, String> {
    let last = source.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("");
    let list = last.strip_prefix("# expect:").ok_or("its last line must be `# expect: CODE[, CODE...]`")?;
    let codes: BTreeSet<&str> = list.split(',').map(str::trim).filter(|code| !code.is_empty()).collect();
    if codes.is_empty() {
        return Err("`# expect:` names no code".into());
    }
    match codes.iter().find(|code| !Code::ALL.iter().any(|c| c.as_str() == **code)) {
        Some(unknown) => Err(format!("`{unknown}` is not in the catalogue (codegen/src/catalogue.rs)")),
        None => Ok(codes),
    }
}

/// Every failing fixture: its file name, source and diagnostics.
fn error_fixtures() -> Vec<(String, String, Diagnostics)> {
    let dir = format!("{}/tests/fixtures/err", env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    paths.retain(|path| path.extension().is_some_and(|ext| ext == "yaml"));
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let source = std::fs::read_to_string(&path).unwrap();
            let diagnostics =
                generator().generate(&source).err().unwrap_or_else(|| panic!("{name} should not generate"));
            (name, source, diagnostics)
        })
        .collect()
}

#[test]
fn every_error_fixture_fails_for_its_own_reason() {
    // Guards against a fixture that fails for an unrelated reason (e.g. a typo in the fixture).
    for (name, source, diagnostics) in error_fixtures() {
        let expected = expected_codes(&source).unwrap_or_else(|problem| panic!("{name}: {problem}"));
        let found: BTreeSet<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(found, expected, "{name}: the codes found differ from its `# expect:` line");
    }
}

#[test]
fn a_fixture_must_declare_what_it_expects() {
    assert!(expected_codes("version: 1\n").is_err());
    assert!(expected_codes("version: 1\n# expect:\n").is_err());
    assert!(expected_codes("version: 1\n# expect: unknown-kye\n").is_err());
    assert!(expected_codes("# expect: bad-name\nversion: 1\n").is_err(), "the expectation is the last line");
    let codes = expected_codes("version: 1\n# expect: bad-name, bad-unique\n\n").unwrap();
    assert_eq!(codes.into_iter().collect::<Vec<_>>(), ["bad-name", "bad-unique"]);
}

/// Codes no fixture can produce, each with the reason; none so far. A code listed here must
/// indeed be produced by no fixture, so the list cannot go stale.
const NOT_FROM_A_FIXTURE: &[(Code, &str)] = &[];

#[test]
fn every_catalogue_code_is_produced_by_a_fixture() {
    let produced: BTreeSet<Code> = error_fixtures().iter().flat_map(|(_, _, d)| d.iter().map(|d| d.code)).collect();
    for code in Code::ALL {
        let exempt = NOT_FROM_A_FIXTURE.iter().find(|(c, _)| c == code);
        match (produced.contains(code), exempt) {
            (true, None) | (false, Some(_)) => {}
            (false, None) => {
                panic!("no fixture in fixtures/err produces `{code}`; add one (or list it, with a reason)")
            }
            (true, Some((_, reason))) => {
                panic!("`{code}` is listed as unreachable from a fixture ({reason}), but a fixture produces it")
            }
        }
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

#[test]
fn role_column_handles_and_constructors_are_checked_at_the_binding() {
    let cases: [(&str, &[&str]); 3] = [
        ("41_column_handle_missing", &["`code_digest`, which `code` lacks"]),
        (
            "42_column_handle_type",
            &["`code_digest` as `string`, but it is `uuid`", "`used_at` as nullable `timestamp`"],
        ),
        ("43_constructor_struct", &["creates rows with `redirect_uri` (String)", "cannot fill `scope`"]),
    ];
    for (fixture, expected) in cases {
        let source =
            std::fs::read_to_string(format!("{}/tests/fixtures/err/{fixture}.yaml", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        let diagnostics = generator().generate(&source).unwrap_err();
        let binding_line = source.lines().position(|l| l.trim_start() == "plays: auth_code").unwrap() + 1;
        let messages: Vec<_> = diagnostics.iter().map(|d| d.message.clone()).collect();
        assert_eq!(messages.len(), expected.len(), "{fixture}: {messages:?}");
        for (diagnostic, expected) in diagnostics.iter().zip(expected) {
            assert_eq!(diagnostic.code.as_str(), "role-binding", "{fixture}");
            assert_eq!(diagnostic.pos.line, binding_line, "{fixture}: located at the binding");
            assert!(diagnostic.message.contains(expected), "{fixture}: {} lacks {expected}", diagnostic.message);
        }
    }
}

#[test]
fn a_field_both_read_and_queried_is_reported_once() {
    let roles = r#"
/// A thing.
pub trait Thing {
    /// Its digest.
    fn digest(&self) -> &str;
}
/// Its columns.
pub trait ThingColumns: Resource {
    /// Its digest.
    const DIGEST: Col<Self, String>;
}
"#;
    let generator = Generator::new().hook_module("crate::roles", roles).unwrap();
    let source = "version: 1\ntenancy: { entity: tenant, key: slug }\nentities:\n  tenant:\n    plays: thing\n    fields:\n      id: { type: uuid, primary_key: true, default: uuid_v4 }\n      slug: { type: string, unique: true }\n      digest: { type: integer }\n";
    let diagnostics = generator.generate(source).unwrap_err();
    let messages: Vec<_> = diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages, ["role `thing` needs `digest` to be string, but it is `integer` on `tenant`"]);
}

#[test]
fn an_entity_named_like_a_role_plays_it_and_a_role_is_played_once() {
    let roles = "/// A thing.\npub trait Thing {\n    /// Its name.\n    fn name(&self) -> &str;\n}\n";
    let generator = Generator::new().hook_module("crate::roles", roles).unwrap();
    let tenant = "version: 1\ntenancy: { entity: tenant, key: slug }\nentities:\n  tenant:\n    fields:\n      id: { type: uuid, primary_key: true, default: uuid_v4 }\n      slug: { type: string, unique: true }\n";
    let thing = |name: &str, plays: &str| {
        format!(
            "  {name}:\n    tenant_scoped: true\n{plays}    fields:\n      id: {{ type: uuid, primary_key: true, default: uuid_v4 }}\n      name: {{ type: string }}\n"
        )
    };
    // By name, without `plays:`.
    let files = generator.generate(&format!("{tenant}{}", thing("thing", ""))).expect("binds by name");
    let entities = files.iter().find(|f| f.name == "entities.rs").unwrap();
    assert!(entities.contents.contains("impl crate::roles::Thing for thing::Model"), "{}", entities.contents);
    // Two entities cannot both play it.
    let twice = format!("{tenant}{}{}", thing("a", "    plays: thing\n"), thing("b", "    plays: thing\n"));
    let diagnostics = generator.generate(&twice).unwrap_err();
    let messages: Vec<_> = diagnostics.iter().map(|d| (d.code.as_str(), d.message.as_str(), d.pos.line)).collect();
    assert_eq!(messages, [("role-binding", "role `thing` is played twice", 16)]);
}
