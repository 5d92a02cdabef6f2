//! A rule's texts: title, summary, problem, impact, solution, source and verified date, with
//! their templates split. Built-in rules keep them as JSON until the rule first fires.

use super::grammar::RawProse;
use super::template::Template;

/// A rule's texts, with their templates split.
#[derive(Clone, Debug, Default)]
pub struct Prose {
    /// The finding's title.
    pub title: Template,
    /// The status table's line; the title when absent.
    pub summary: Option<Template>,
    /// What goes wrong.
    pub problem: Template,
    /// What it breaks.
    pub impact: Vec<Template>,
    /// What to do.
    pub solution: Vec<Template>,
    /// Where its fact comes from.
    pub source: Vec<String>,
    /// The day someone checked it against its source.
    pub verified: String,
}

/// A rule's texts, compiled now (rule files) or when the rule first fires (the built-in
/// catalogue: most rules never fire on a given project, and reading every rule's prose at start
/// cost more than all the judging).
#[derive(Clone, Debug)]
pub struct LazyProse {
    /// The texts as JSON in build.rs's compact form, until they are needed.
    deferred: Option<&'static str>,
    compiled: std::sync::OnceLock<Prose>,
}

impl LazyProse {
    /// Texts already compiled.
    pub fn ready(prose: Prose) -> LazyProse {
        LazyProse {
            deferred: None,
            compiled: std::sync::OnceLock::from(prose),
        }
    }

    /// Texts to compile on first use.
    pub fn deferred(json: &'static str) -> LazyProse {
        LazyProse {
            deferred: Some(json),
            compiled: std::sync::OnceLock::new(),
        }
    }

    /// The texts, compiled on first use.
    pub fn get(&self) -> &Prose {
        self.compiled.get_or_init(|| {
            let raw = self
                .deferred
                .and_then(|json| serde_json::from_str(json).ok())
                .unwrap_or_default();
            Prose::compile(&raw).0
        })
    }
}

impl Prose {
    /// Splits a rule's texts into templates; the problems are placeholders no fact fills.
    pub fn compile(raw: &RawProse) -> (Prose, Vec<String>) {
        let mut problems = Vec::new();
        let mut template = |text: &str| {
            let (template, unknown) = Template::parse(text);
            for name in unknown {
                let problem = format!(
                    "`{{{name}}}` is not a value a message can quote (see rules/README.md)"
                );
                if !problems.contains(&problem) {
                    problems.push(problem);
                }
            }
            template
        };
        let prose = Prose {
            title: template(&raw.title),
            summary: raw.summary.as_deref().map(&mut template),
            problem: template(&raw.problem),
            impact: raw.impact.iter().map(|t| template(t)).collect(),
            solution: raw.solution.iter().map(|t| template(t)).collect(),
            source: raw.source.list().iter().map(|s| s.to_string()).collect(),
            verified: raw.verified.clone(),
        };
        (prose, problems)
    }

    /// Whether any of the texts quotes `{name}`.
    pub fn mentions(&self, name: &str) -> bool {
        [&self.title, &self.problem]
            .into_iter()
            .chain(self.summary.iter())
            .chain(&self.impact)
            .chain(&self.solution)
            .any(|t| t.mentions(name))
    }
}
