//! Arbitrary bytes as a project's code, notebooks and launch scripts: the scan never panics,
//! never fails (code that cannot be read is a note), and every fact it finds points at a line
//! of the file it came from.

use proptest::prelude::*;

/// Fragments real files are made of, so that random input reaches deep into the readers.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("import torch\n".to_string()),
        Just("from flash_attn import x\n".to_string()),
        Just("model.cuda()\n".to_string()),
        Just("dist.init_process_group(backend='nccl')\n".to_string()),
        Just("try:\n    import apex\nexcept ImportError:\n".to_string()),
        Just("torchrun --nproc_per_node=8 \\\n".to_string()),
        Just("CUDA_VISIBLE_DEVICES=0,1 ".to_string()),
        Just("{\"cells\": [{\"cell_type\": \"code\", \"source\": [\"".to_string()),
        Just("\"]}]}".to_string()),
        Just("!pip install -q bitsandbytes\\n".to_string()),
        Just("((((".to_string()),
        Just("'''".to_string()),
        Just("\\\n".to_string()),
        "[ -~\t\n]{0,40}",
        any::<String>().prop_map(|s| s.chars().take(20).collect()),
    ]
}

fn file() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..24).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn code_notebooks_and_scripts_never_break_the_scan(
        python in file(),
        notebook in file(),
        script in file(),
        raw in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            ("train.py", python.as_bytes().to_vec()),
            ("nb.ipynb", notebook.as_bytes().to_vec()),
            ("run.sh", script.as_bytes().to_vec()),
            ("Makefile", raw.clone()),
            ("raw.py", raw),
        ];
        for (name, bytes) in &files {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let project = mlcompat::project::scan(dir.path()).expect("code never fails the scan");
        let lines = |name: &str| -> u32 {
            let bytes = &files.iter().find(|(n, _)| *n == name).unwrap().1;
            bytes.iter().filter(|&&b| b == b'\n').count() as u32 + 1
        };
        for evidence in project
            .settings
            .iter()
            .map(|s| &s.evidence)
            .chain(project.packages.iter().map(|p| &p.evidence))
        {
            prop_assert!(evidence.line >= 1 && evidence.line <= lines(&evidence.file), "{evidence}");
        }
    }
}
