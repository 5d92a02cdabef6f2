//! The published JSON Schemas (schemas/*.json) are what the Rust types generate today.
//! Regenerate with `UPDATE_SCHEMAS=1 cargo test --test schema`.

use std::path::Path;

fn check(file: &str, generated: String) {
    let path = Path::new("schemas").join(file);
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::create_dir_all("schemas").unwrap();
        std::fs::write(&path, &generated).unwrap();
    }
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        published == generated,
        "{} is out of date: run UPDATE_SCHEMAS=1 cargo test --test schema",
        path.display()
    );
}

#[test]
fn the_profile_schema_is_current() {
    check("profile.schema.json", mlcompat::schema::profile());
}

#[test]
fn the_report_schema_is_current() {
    check("report.schema.json", mlcompat::schema::report());
}

#[test]
fn the_fleet_schema_is_current() {
    check("fleet.schema.json", mlcompat::schema::fleet());
}

#[test]
fn the_error_schema_is_current() {
    check("error.schema.json", mlcompat::schema::error());
}

#[test]
fn the_fix_schema_is_current() {
    check("fix.schema.json", mlcompat::schema::fix());
}

#[test]
fn the_fixture_profiles_validate_against_the_published_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/profile.schema.json").unwrap())
            .unwrap();
    // The schema names every top-level key a profile may have.
    let keys: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in ["schema_version", "system", "python", "gpus"] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    assert_eq!(schema["additionalProperties"], false);
}
