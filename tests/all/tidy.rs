//! House rules a program can check (docs/dev/style.md): every config that deserialises
//! rejects unknown fields or goes through a validating constructor, no ignored tests, every
//! module has docs, no reference to files outside the repository, every declared
//! dependency is used, the figures agree everywhere they are listed, and committed summaries
//! record the current spec's hash.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files under `dir` (recursively) with one of `exts`.
fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | ".git" | "data" | ".cache" | "snapshots"
            ) {
                files(&p, exts, out);
            }
        } else if exts.iter().any(|x| name.ends_with(x)) {
            out.push(p);
        }
    }
}

fn rust_sources() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for d in ["crates", "xtask", "tests", "src"] {
        files(&root().join(d), &[".rs"], &mut v);
    }
    v
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

#[test]
fn deserialised_structs_reject_unknown_fields_or_validate() {
    let mut bad = Vec::new();
    for f in rust_sources() {
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if !(l.trim_start().starts_with("#[derive(") && l.contains("Deserialize")) {
                continue;
            }
            // the attributes up to the item line
            let mut attrs = String::new();
            let mut j = i;
            while j < lines.len() && !lines[j].contains("struct ") && !lines[j].contains("enum ") {
                attrs.push_str(lines[j]);
                j += 1;
            }
            let item = lines.get(j).copied().unwrap_or("");
            let ok = ["deny_unknown_fields", "try_from", "from =", "transparent"]
                .iter()
                .any(|k| attrs.contains(k));
            // configs: `*Config`, `*Spec`, `*Options` and the figure specs `Fig<N>`
            let name = item
                .split("struct ")
                .nth(1)
                .unwrap_or("")
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .next()
                .unwrap_or("");
            let config = ["Config", "Spec", "Options"]
                .iter()
                .any(|s| name.ends_with(s))
                || (name.starts_with("Fig") && name[3..].chars().all(|c| c.is_ascii_digit()));
            if config && !ok {
                bad.push(format!("{}:{}: {}", rel(&f), j + 1, item.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "configs deriving Deserialize without #[serde(deny_unknown_fields)] or a validating try_from:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_ignored_tests() {
    let pat = ["#[", "ignore]"].concat();
    let bad: Vec<String> = rust_sources()
        .into_iter()
        .filter(|f| std::fs::read_to_string(f).unwrap().contains(&pat))
        .map(|f| rel(&f))
        .collect();
    assert!(
        bad.is_empty(),
        "slow checks belong behind `cargo xtask reproduce`, not an ignore flag: {bad:?}"
    );
}

#[test]
fn every_module_has_docs() {
    let bad: Vec<String> = rust_sources()
        .into_iter()
        .filter(|f| {
            let t = std::fs::read_to_string(f).unwrap();
            !t.trim_start().starts_with("//!")
        })
        .map(|f| rel(&f))
        .collect();
    assert!(bad.is_empty(), "files without a `//!` module doc: {bad:?}");
}

#[test]
fn no_reference_to_files_outside_the_repository() {
    let mut v = rust_sources();
    for d in ["crates", "xtask", "papers", "docs", ".cargo", ".ci"] {
        files(
            &root().join(d),
            &[".md", ".toml", ".py", "run", ".sh"],
            &mut v,
        );
    }
    for f in ["README.md", "ARCHITECTURE.md", "Cargo.toml"] {
        v.push(root().join(f));
    }
    let pats = [
        ["../", "shared"].concat(),
        ["shared/", "notes"].concat(),
        ["notes/", "dmft.md"].concat(),
        ["notes/", "rust-stack"].concat(),
        ["notes/", "literature"].concat(),
        ["notes/", "slurm"].concat(),
    ];
    let mut bad = Vec::new();
    for f in v {
        let Ok(t) = std::fs::read_to_string(&f) else {
            continue;
        };
        for (i, l) in t.lines().enumerate() {
            if pats.iter().any(|p| l.contains(p.as_str())) {
                bad.push(format!("{}:{}", rel(&f), i + 1));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "references to files a user of gardner does not have (put the fact in the docs):\n{}",
        bad.join("\n")
    );
}

/// Dependencies of a `[section]` of a Cargo.toml (names as written).
fn deps(toml_text: &str, section: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for l in toml_text.lines() {
        let t = l.trim();
        if t.starts_with('[') {
            inside = t == section;
            continue;
        }
        if inside && let Some((name, _)) = t.split_once('=') {
            let name = name.trim().trim_end_matches(".workspace").to_string();
            if !name.is_empty() && !name.starts_with('#') {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn every_declared_dependency_is_used() {
    let mut manifests = vec![root().join("xtask")];
    files(&root().join("crates"), &["Cargo.toml"], &mut Vec::new());
    for e in std::fs::read_dir(root().join("crates")).unwrap().flatten() {
        manifests.push(e.path());
    }
    let mut bad = Vec::new();
    for dir in manifests {
        let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let mut src = Vec::new();
        files(&dir.join("src"), &[".rs"], &mut src);
        let lib: String = src
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        let mut all = src.clone();
        for d in ["benches", "tests", "examples"] {
            files(&dir.join(d), &[".rs"], &mut all);
        }
        let every: String = all
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        let build = std::fs::read_to_string(dir.join("build.rs")).unwrap_or_default();
        for (section, hay) in [("[dependencies]", &lib), ("[dev-dependencies]", &every)] {
            for d in deps(&text, section) {
                let ident = d.replace('-', "_");
                if !hay.contains(&format!("{ident}::"))
                    && !hay.contains(&format!("use {ident}"))
                    && !hay.contains(&format!("{ident}!"))
                    && !build.contains(&format!("{ident}::"))
                {
                    bad.push(format!("{}: {section} {d}", rel(&dir)));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "declared but unused dependencies:\n{}",
        bad.join("\n")
    );
}

/// The ids of the README's figure table: its rows `| figN | …`.
fn readme_figures(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("| fig"))
        .filter_map(|l| {
            let n: String = l.chars().take_while(|c| c.is_ascii_digit()).collect();
            (!n.is_empty() && l[n.len()..].starts_with(" |")).then(|| format!("fig{n}"))
        })
        .collect()
}

#[test]
fn figures_agree_across_specs_registry_snapshots_and_readme() {
    let registry: Vec<String> = gardner_sim::registry::all()
        .iter()
        .map(|f| f.id().to_string())
        .collect();
    let mut papers: Vec<String> = std::fs::read_dir(root().join("papers"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_suffix(".toml").map(String::from)
        })
        .collect();
    papers.sort_by_key(|id| id[3..].parse::<u32>().unwrap_or(u32::MAX));
    let read = |p: &str| std::fs::read_to_string(root().join(p)).unwrap();
    let snapshots: Vec<String> = read("tests/all/snapshots.rs")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("snap!(")?.strip_suffix(");"))
        .flat_map(|l| l.split(',').map(|s| s.trim().to_string()))
        .collect();
    let readme = readme_figures(&read("README.md"));
    for (what, ids) in [
        ("papers/*.toml", &papers),
        ("the snapshot list (tests/all/snapshots.rs)", &snapshots),
        ("the README's figure table", &readme),
    ] {
        assert_eq!(
            ids, &registry,
            "{what} and the figure registry (gardner_sim::registry) disagree"
        );
    }
}

/// Every committed summary (data/, data/quick/, data/full/) records the FNV-1a hash of the
/// spec it was computed from, and that is the current papers/<fig>.toml: an edited spec
/// (even its comments) must be followed by a rerun or a hash update, or the provenance lies.
#[test]
fn committed_summaries_record_the_current_spec_hash() {
    for fig in gardner_sim::registry::all() {
        let id = fig.id();
        let spec = std::fs::read(root().join(format!("papers/{id}.toml"))).unwrap();
        let hash = format!("{:016x}", gardner_sim::key::fnv1a(&spec));
        for dir in ["data", "data/quick", "data/full"] {
            let Ok(text) = std::fs::read_to_string(root().join(format!("{dir}/{id}.toml"))) else {
                continue;
            };
            let recorded = text
                .lines()
                .find_map(|l| l.strip_prefix("spec_fnv1a = "))
                .map(|v| v.trim_matches('"'));
            assert_eq!(
                recorded,
                Some(hash.as_str()),
                "{dir}/{id}.toml: spec_fnv1a differs from papers/{id}.toml's hash"
            );
        }
    }
}

/// Every worked case in docs/cases/ is a valid `cargo xtask dmft` / `simulate` config.
#[test]
fn docs_cases_are_valid_dmft_configs() {
    let mut v = Vec::new();
    files(&root().join("docs/cases"), &[".toml"], &mut v);
    assert!(!v.is_empty(), "docs/cases/ has no config");
    for p in v {
        let text = std::fs::read_to_string(&p).unwrap();
        if let Err(e) = gardner_theory::dmft::Config::from_toml(&text) {
            panic!("{}: {e}", p.display());
        }
    }
}
