//! Alternative recipes (DESIGN.md's recipe rule), through the real binary on fixture projects in
//! the shapes of axolotl's `examples/` and litgpt's `config_hub/`: each recipe is judged on its
//! own; a kind of recipe is ⚠️ "use another recipe" while one of its recipes runs, ❌ only when
//! none does; `check path/to/recipe.yaml` judges that recipe with the project's manifests.

use serde_json::Value;

mod common;
use common::component;

fn run(args: &[&str]) -> String {
    let output = common::mlcompat()
        .args(args)
        .args(["--color", "never", "--fail-on", "never"])
        .output()
        .expect("mlcompat runs");
    String::from_utf8(output.stdout).expect("the report is UTF-8")
}

fn json(path: &str, profile: &str) -> Value {
    let profile = format!("fixtures/profiles/{profile}.yaml");
    let text = run(&["check", path, "--profile", &profile, "--format", "json"]);
    serde_json::from_str(&text).expect("a JSON report")
}

#[test]
fn one_recipe_that_runs_makes_the_others_a_warning() {
    let report = json("fixtures/projects/recipes-examples", "macbook-m2-8gb");
    let recipes = report["recipes"].as_array().expect("recipes");
    assert_eq!(recipes.len(), 5);
    // The one that runs on 8 GB comes first: a 1.1B LoRA with gradient checkpointing.
    assert_eq!(recipes[0]["file"], "examples/tinyllama/lora.yml");
    assert_eq!(recipes[0]["runs"], true);
    assert_eq!(recipes[0]["kind"], "examples");
    assert!(recipes[1..].iter().all(|r| r["runs"] == false));
    let kind = component(&report, "recipes:examples");
    assert_eq!(kind["status"], "warn");
    assert_eq!(kind["kind"], "recipes");
    assert_eq!(report["verdict"], "warn", "{report:#}");
    // The recipes' own findings stay with them, not in the project's.
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["rule"] != "memory-does-not-fit")
    );
    let fft = recipes
        .iter()
        .find(|r| r["file"] == "examples/llama-3/fft.yml")
        .expect("fft");
    assert_eq!(fft["findings"][0]["rule"], "memory-does-not-fit");
}

#[test]
fn every_recipe_runs_on_a_192_gb_gpu_and_all_but_one_on_80_gb() {
    let report = json("fixtures/projects/recipes-examples", "linux-mi300x");
    assert_eq!(component(&report, "recipes:examples")["status"], "ok");
    let recipes = report["recipes"].as_array().expect("recipes");
    assert!(recipes.iter().all(|r| r["runs"] == true), "{report:#}");
    // The full fine-tune of the 8B model needs ≈ 124 GB (16 bytes a parameter): not on 80 GB.
    let report = json("fixtures/projects/recipes-examples", "linux-a100-80gb");
    assert_eq!(component(&report, "recipes:examples")["status"], "warn");
    let recipes = report["recipes"].as_array().expect("recipes");
    let failing: Vec<&Value> = recipes.iter().filter(|r| r["runs"] == false).collect();
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0]["file"], "examples/llama-3/fft.yml");
    assert_eq!(
        recipes.last(),
        Some(failing[0]),
        "those that run come first"
    );
}

#[test]
fn kinds_are_judged_apart_and_none_running_fails() {
    let report = json("fixtures/projects/litgpt-config-hub", "linux-rtx3090");
    assert_eq!(
        component(&report, "recipes:config_hub/finetune")["status"],
        "warn"
    );
    // The only pretraining recipe wants 4 nodes of 8 GPUs and 90 GB: none of that kind runs.
    assert_eq!(
        component(&report, "recipes:config_hub/pretrain")["status"],
        "fail"
    );
    assert_eq!(report["verdict"], "fail");
}

#[test]
fn a_named_recipe_is_judged_with_the_projects_manifests() {
    let report = json(
        "fixtures/projects/recipes-examples/examples/llama-3/qlora.yml",
        "macbook-m2-8gb",
    );
    // The requirements file two folders up is read, and the recipe's own findings are the
    // project's; the other recipes are left aside.
    assert!(report.get("recipes").is_none(), "{report:#}");
    assert_eq!(component(&report, "torch")["status"], "warn");
    assert_eq!(component(&report, "memory")["status"], "fail");
    let memory = &report["memory"];
    assert_eq!(memory["model"], "meta-llama/Meta-Llama-3-8B");
    assert!(
        memory["arithmetic"]
            .as_str()
            .expect("arithmetic")
            .contains("batch 1 × 2048 tokens")
    );
    assert!(
        component(&report, "memory")["evidence"][0]["file"]
            .as_str()
            .expect("a file")
            .starts_with("examples/llama-3/qlora.yml")
    );
}

#[test]
fn the_terminal_shows_one_compact_table_and_details_with_v() {
    let args = [
        "check",
        "fixtures/projects/recipes-examples",
        "--profile",
        "fixtures/profiles/macbook-m2-8gb.yaml",
    ];
    let short = run(&args);
    insta::with_settings!({ snapshot_suffix => "txt", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("recipes-examples__macbook-m2-8gb__table", short);
    });
    assert!(
        short.contains("1 of 5 recipes run on this machine"),
        "{short}"
    );
    assert!(!short.contains("of activations"), "{short}");
    let mut verbose_args = args.to_vec();
    verbose_args.push("-v");
    let verbose = run(&verbose_args);
    assert!(
        verbose.contains("of activations (batch 1 × 4096 tokens"),
        "{verbose}"
    );
}

#[test]
fn markdown_and_github_reports_list_the_recipes_too() {
    let profile = "fixtures/profiles/macbook-m2-8gb.yaml";
    let project = "fixtures/projects/recipes-examples";
    let markdown = run(&[
        "check",
        project,
        "--profile",
        profile,
        "--format",
        "markdown",
    ]);
    let section = markdown
        .split("\n## Recipes\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no Recipes section:\n{markdown}"));
    assert!(
        section.starts_with("\n1 of 5 recipes run on this machine"),
        "{section}"
    );
    let rows: Vec<&str> = section
        .lines()
        .filter(|line| line.starts_with("| ") && line.contains(".yml:"))
        .collect();
    assert_eq!(rows.len(), 5, "{section}");
    // The one that runs comes first, named by file and line.
    assert!(
        rows[0].starts_with("| ✅ | examples/tinyllama/lora.yml:"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1..].iter().all(|row| row.starts_with("| ❌ ")),
        "{rows:#?}"
    );
    let github = run(&["check", project, "--profile", profile, "--format", "github"]);
    assert!(
        github.lines().any(|line| line
            == "mlcompat: 1 of 5 recipes run on this machine; those that do are listed first"),
        "{github}"
    );
}
