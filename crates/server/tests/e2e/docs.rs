//! The book and the README cannot rot: every command block tagged `sh runnable` is run, in
//! order, against a live server, and where an `output` block follows, the output must have the
//! same shape (same JSON keys and prose, any tokens, ids and times). Internal links must
//! point at files that exist.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use crate::harness::{ServerProcess, exclusive, find_tool, missing, workspace_root};

/// One runnable block, and the output the document shows after it.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    /// The line of the block in its file.
    line: usize,
    command: String,
    expected: Option<String>,
}

/// The runnable blocks of a Markdown document, with their outputs.
fn runnable_steps(markdown: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut lines = markdown.lines().enumerate();
    // Whether an output block would still belong to the last runnable block.
    let mut output_may_follow = false;
    while let Some((number, line)) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            if !line.trim().is_empty() {
                output_may_follow = false;
            }
            continue;
        };
        let words: Vec<&str> = info.split_whitespace().collect();
        let body: Vec<&str> = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| !l.trim_start().starts_with("```"))
            .collect();
        let body = body.join("\n");
        if words.contains(&"runnable") {
            steps.push(Step {
                line: number + 1,
                command: body,
                expected: None,
            });
            output_may_follow = true;
        } else if words.contains(&"output") && output_may_follow {
            if let Some(step) = steps.last_mut() {
                step.expected = Some(body);
            }
            output_may_follow = false;
        } else {
            output_may_follow = false;
        }
    }
    steps
}

/// Runs `steps` in one bash session in `workdir`, with the documents' server address replaced
/// by `base`; checks each exits 0 and matches its shown output.
fn run_steps(file: &str, steps: &[Step], base: &str, workdir: &Path) -> Result<()> {
    let mut script = String::from("set -euo pipefail\n");
    for (index, step) in steps.iter().enumerate() {
        script.push_str(&format!("printf '\\n@@step {index}@@\\n'\n"));
        script.push_str(&step.command.replace("http://127.0.0.1:8000", base));
        script.push('\n');
    }
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(workdir)
        .output()
        .context("running bash")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut outputs: Vec<String> = stdout
        .split("\n@@step ")
        .skip(1)
        .map(|chunk| {
            chunk
                .split_once("@@\n")
                .map_or("", |(_, rest)| rest)
                .to_owned()
        })
        .collect();
    if !output.status.success() {
        let failed = outputs.len().saturating_sub(1);
        let step = &steps[failed.min(steps.len() - 1)];
        bail!(
            "{file}:{}: the block failed ({}):\n{}\nstderr: {}",
            step.line,
            output.status,
            step.command,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    outputs.resize(steps.len(), String::new());
    for (step, actual) in steps.iter().zip(&outputs) {
        if let Some(expected) = &step.expected {
            ensure!(
                same_shape(expected.trim(), actual.trim()),
                "{file}:{}: the output changed shape.\nshown:\n{}\nnow:\n{}",
                step.line,
                expected.trim(),
                actual.trim()
            );
        }
    }
    Ok(())
}

/// Whether `actual` has the shape of `expected`, line by line: JSON lines must have the same
/// keys in the same order and the same prose (strings with a space); other lines the same
/// punctuation around their words. Tokens, ids, numbers and times may differ; `…` in the
/// document stands for the rest of a long value.
fn same_shape(expected: &str, actual: &str) -> bool {
    let (expected, actual): (Vec<&str>, Vec<&str>) =
        (expected.lines().collect(), actual.lines().collect());
    expected.len() == actual.len()
        && expected.iter().zip(&actual).all(|(e, a)| {
            match (
                serde_json::from_str::<Value>(e),
                serde_json::from_str::<Value>(a),
            ) {
                (Ok(e), Ok(a)) => same_json_shape(&e, &a),
                _ => text_shape(e) == text_shape(a),
            }
        })
}

fn same_json_shape(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            e.keys().eq(a.keys())
                && e.values()
                    .zip(a.values())
                    .all(|(e, a)| same_json_shape(e, a))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| same_json_shape(e, a))
        }
        (Value::String(e), Value::String(a)) if e.contains(' ') => e == a,
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null) => true,
        _ => false,
    }
}

/// Words (letters, digits, `_-+/=` and `…`) become `x`, spaces one space, the rest stays.
fn text_shape(text: &str) -> String {
    let mut shape = String::new();
    let mut in_word = false;
    for c in text.trim().chars() {
        let word = c.is_alphanumeric() || "_-+/=…".contains(c);
        if word && !in_word {
            shape.push('x');
        } else if !word {
            shape.push(if c.is_whitespace() { ' ' } else { c });
        }
        in_word = word;
    }
    shape
}

/// The README and the book's chapters, in reading order.
fn documents() -> Vec<PathBuf> {
    let root = workspace_root();
    let summary = std::fs::read_to_string(root.join("docs/src/SUMMARY.md")).expect("SUMMARY.md");
    let mut files = vec![root.join("README.md")];
    files.extend(
        links(&summary)
            .into_iter()
            .map(|link| root.join("docs/src").join(link)),
    );
    files
}

/// The targets of the Markdown links and images in `markdown`.
fn links(markdown: &str) -> Vec<String> {
    markdown
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split([')', ' ']).next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_book_and_the_readme_have_no_broken_internal_links() {
    let mut broken = Vec::new();
    let mut checked = 0;
    let book = workspace_root().join("docs/src");
    let mut files = documents();
    files.push(book.join("SUMMARY.md"));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|_| {
            panic!("{} is listed but missing", file.display());
        });
        let dir = file.parent().expect("a directory");
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") || link.starts_with('#')
            {
                continue;
            }
            checked += 1;
            let path = link.split('#').next().unwrap_or_default();
            if !dir.join(path).exists() {
                broken.push(format!("{}: {link}", file.display()));
            }
        }
    }
    println!("{checked} internal links checked");
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}

/// The paths of the repository's files that a document names in backticks, such as
/// `crates/server/src/auth/mint.rs` (globs, `…` abbreviations and "a new `file`" that an
/// exercise asks for are left out).
fn named_files(markdown: &str) -> Vec<String> {
    let parts: Vec<&str> = markdown.split('`').collect();
    let roots = [
        "crates/",
        "frontend/",
        "migrations/",
        "nginx/",
        "docs/",
        "bench/",
    ];
    (1..parts.len())
        .step_by(2)
        .filter(|&at| !parts[at - 1].ends_with("new "))
        .map(|at| parts[at])
        .filter(|code| {
            roots.iter().any(|root| code.starts_with(root))
                && !code.contains(['*', '…', ' '])
                && code
                    .rsplit('/')
                    .next()
                    .is_some_and(|name| name.contains('.'))
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_source_file_the_book_and_the_readme_name_exists() {
    let mut missing_files = Vec::new();
    let mut checked = 0;
    for file in documents() {
        let text = std::fs::read_to_string(&file).expect("readable");
        for named in named_files(&text) {
            checked += 1;
            if !workspace_root().join(&named).exists() {
                missing_files.push(format!("{}: {named}", file.display()));
            }
        }
    }
    println!("{checked} file names checked");
    assert!(checked >= 20, "only {checked} file names found");
    assert!(
        missing_files.is_empty(),
        "named but missing: {missing_files:#?}"
    );
}

#[test]
fn file_names_are_found_in_backticks_only() {
    let text = "see `crates/server/src/lib.rs` and `migrations/*/up.sql`, not crates/x.rs, \
                `a b` or a new `crates/server/src/routes/notes.rs`";
    assert_eq!(named_files(text), ["crates/server/src/lib.rs"]);
}

#[tokio::test]
async fn every_runnable_block_of_the_book_and_the_readme_works() {
    for tool in ["bash", "curl", "sed", "tr", "grep", "openssl"] {
        if find_tool("", &[tool]).is_none() {
            missing(tool);
            return;
        }
    }
    let _turn = exclusive().await;
    let mut total = 0;
    for file in documents() {
        let text = std::fs::read_to_string(&file).expect("readable");
        let steps = runnable_steps(&text);
        if steps.is_empty() {
            continue;
        }
        let name = file
            .strip_prefix(workspace_root())
            .unwrap_or(&file)
            .display()
            .to_string();
        // A fresh server per document: each one starts from an empty database.
        let server = ServerProcess::start(&[]).expect("the server starts");
        let outcome = run_steps(&name, &steps, &server.base, server.workdir());
        if let Err(error) = outcome {
            panic!("{error:#}");
        }
        println!("{name}: {} runnable blocks passed", steps.len());
        total += steps.len();
    }
    assert!(total >= 15, "only {total} runnable blocks found");
}

#[test]
fn a_failing_command_fails_the_check() {
    let steps =
        runnable_steps("Text.\n\n```sh runnable\necho fine\n```\n\n```sh runnable\nfalse\n```\n");
    let dir = tempfile::tempdir().unwrap();

    let error = run_steps("broken.md", &steps, "http://127.0.0.1:1", dir.path()).unwrap_err();

    assert!(
        error
            .to_string()
            .starts_with("broken.md:7: the block failed"),
        "{error}"
    );
}

#[test]
fn an_output_of_another_shape_fails_the_check() {
    let markdown = "```sh runnable\necho '{\"detail\":\"Token is expired\"}'\n```\n\n\
                    ```json output\n{\"detail\":\"Token is blacklisted\"}\n```\n";
    let steps = runnable_steps(markdown);
    let dir = tempfile::tempdir().unwrap();

    let error = run_steps("changed.md", &steps, "http://127.0.0.1:1", dir.path()).unwrap_err();

    assert!(
        error
            .to_string()
            .starts_with("changed.md:1: the output changed shape"),
        "{error}"
    );
}

#[test]
fn tokens_ids_and_times_may_differ_but_keys_and_messages_may_not() {
    assert!(same_shape(
        r#"{"id":1,"username":"ada"}"#,
        r#"{"id":7,"username":"bob"}"#
    ));
    assert!(same_shape(
        "eyJhbGci….abc.def",
        "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tl.c2ln-_x"
    ));
    assert!(!same_shape(
        r#"{"id":1,"username":"ada"}"#,
        r#"{"id":1,"name":"ada"}"#
    ));
    assert!(!same_shape(
        r#"{"detail":"User not found"}"#,
        r#"{"detail":"User is inactive"}"#
    ));
    assert!(!same_shape(r#"{"id":1}"#, r#"{"id":"1"}"#));
    assert!(!same_shape("one line", "two\nlines"));
}

#[test]
fn output_blocks_belong_to_the_runnable_block_just_before_them() {
    let markdown =
        "```sh runnable\na\n```\n\n```text output\nA\n```\n\nprose\n\n```json output\nB\n```\n";
    let steps = runnable_steps(markdown);
    assert_eq!(
        steps,
        [Step {
            line: 1,
            command: "a".into(),
            expected: Some("A".into())
        }]
    );
}

/// The book's chapters: the pages its summary lists, but for the two reference pages at the
/// end (the exercises and the benchmark figures), which teach nothing to be checked.
fn chapters() -> Vec<PathBuf> {
    let book = workspace_root().join("docs/src");
    let summary = std::fs::read_to_string(book.join("SUMMARY.md")).expect("SUMMARY.md");
    summary
        .lines()
        .filter(|line| line.starts_with("- ["))
        .flat_map(links)
        .filter(|page| !["exercises.md", "benchmarks.md"].contains(&page.as_str()))
        .map(|page| book.join(page))
        .collect()
}

/// The number of folded answers in the chapter's last section, when that section is
/// "Check your understanding".
fn questions_at_the_end(markdown: &str) -> Option<usize> {
    let (_, last_section) = markdown.rsplit_once("\n## ")?;
    last_section
        .starts_with("Check your understanding\n")
        .then(|| last_section.matches("<details>").count())
}

#[test]
fn every_chapter_ends_with_three_or_four_questions_to_check_understanding() {
    let chapters = chapters();
    assert!(
        chapters.len() >= 6,
        "only {} chapters found",
        chapters.len()
    );
    let wrong: Vec<String> = chapters
        .iter()
        .filter_map(|page| {
            let text = std::fs::read_to_string(page).expect("readable");
            let problem = match questions_at_the_end(&text) {
                Some(3..=4) => return None,
                Some(count) => format!("{count} questions"),
                None => "no \"Check your understanding\" section at the end".to_owned(),
            };
            Some(format!("{}: {problem}", page.display()))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "chapters without their questions: {wrong:#?}"
    );
}

#[test]
fn questions_count_only_in_a_last_section_of_that_name() {
    let folded = "<details><summary>Q</summary>A</details>";
    assert_eq!(
        questions_at_the_end(&format!(
            "# T\n\n## Check your understanding\n{folded}{folded}"
        )),
        Some(2)
    );
    assert_eq!(
        questions_at_the_end(&format!(
            "# T\n\n## Check your understanding\n{folded}\n## More\n"
        )),
        None
    );
}
