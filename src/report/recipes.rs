//! The recipes of a project in the terminal report: one compact table, those that run first,
//! and with `-v` what each recipe's findings say.

use std::fmt::Write;

use super::Style;
use super::table::{cell, heading, new_table, wrap};
use super::text::icon;
use crate::assessment::{Assessment, RecipeOut, Status};
use crate::size::ByteSize;

/// `Recipes: 3 of 5 run on this machine`, then a table of them.
pub fn section(out: &mut String, assessment: &Assessment, style: &Style, width: u16) {
    let recipes = &assessment.recipes;
    if recipes.is_empty() {
        return;
    }
    heading(out, "Recipes");
    let _ = writeln!(out, "  {}", headline(recipes));
    let mut table = new_table(style, width);
    table.set_header(vec!["", "Recipe", "Model", "Needs", "Why"]);
    for recipe in recipes {
        table.add_row(vec![
            icon(recipe.status, style.ascii).to_string(),
            cell(&recipe.file),
            cell(recipe.model.as_deref().unwrap_or("")),
            need(recipe),
            cell(&recipe.summary),
        ]);
    }
    let _ = writeln!(out, "{table}");
    if style.verbose {
        details(out, recipes, style, width);
    }
}

/// `3 of 5 recipes run on this machine (✅ 1, ⚠️ 2, ❌ 2)`.
pub fn headline(recipes: &[RecipeOut]) -> String {
    let runs = recipes.iter().filter(|r| r.runs).count();
    format!(
        "{runs} of {} recipes run on this machine; those that do are listed first",
        recipes.len()
    )
}

/// `≈ 14.2 GB`: the recipe's memory estimate, or nothing.
pub fn need(recipe: &RecipeOut) -> String {
    recipe
        .memory
        .as_ref()
        .filter(|m| m.need_bytes > 0)
        .map(|m| format!("≈ {}", ByteSize(m.need_bytes)))
        .unwrap_or_default()
}

/// The Markdown section: the headline, then one table row per recipe, those that run first.
/// The assessment's strings are already Markdown-escaped, `|` included.
pub fn markdown(out: &mut String, assessment: &Assessment) {
    let recipes = &assessment.recipes;
    if recipes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n## Recipes\n\n{}.\n\n| | Recipe | Model | Needs | Why |\n| --- | --- | --- | --- | --- |",
        headline(recipes)
    );
    for recipe in recipes {
        let _ = writeln!(
            out,
            "| {} | {}:{} | {} | {} | {} |",
            icon(recipe.status, false),
            recipe.file,
            recipe.line,
            recipe.model.as_deref().unwrap_or(""),
            need(recipe),
            recipe.summary
        );
    }
}

/// `-v`: each recipe's findings that are not ok, and its memory arithmetic.
fn details(out: &mut String, recipes: &[RecipeOut], style: &Style, width: u16) {
    for recipe in recipes {
        let _ = writeln!(
            out,
            "\n  {} {}:{}",
            icon(recipe.status, style.ascii),
            recipe.file,
            recipe.line
        );
        for finding in recipe.findings.iter().filter(|f| f.status > Status::Ok) {
            wrap(
                out,
                &format!("     {} ", icon(finding.status, style.ascii)),
                "        ",
                &format!("{} [{}]", finding.title, finding.rule),
                width,
            );
        }
        if let Some(memory) = &recipe.memory {
            wrap(out, "     ", "       ", &memory.arithmetic, width);
        }
        for change in &recipe.changes {
            wrap(
                out,
                "     → ",
                "       ",
                &format!("{}:{}  {}", change.file, change.line, change.change),
                width,
            );
        }
    }
}
