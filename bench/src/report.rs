//! Each figure of a run against its budget in `bench/budgets.toml`: the markdown table
//! printed at the end of `scripts/bench.sh`, the same table and the raw figures written to
//! `bench/results/`, and with `--check` a failing exit naming each figure that misses its
//! budget by more than its noise margin.

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Budgets {
    figure: Vec<Budget>,
}

/// One figure's budget: at least `min` or at most `max`; `noise` is the fraction past it
/// that still passes (the machine is shared, runs vary).
#[derive(Debug, Deserialize)]
struct Budget {
    name: String,
    what: String,
    min: Option<f64>,
    max: Option<f64>,
    noise: f64,
}

struct Figure {
    name: String,
    value: f64,
    unit: String,
    command: String,
}

/// Prints the table, writes `out.md` and `out.json`; `Ok(false)` when `check` and a figure
/// missed its budget.
///
/// # Errors
/// A file cannot be read, parsed or written.
pub fn run(
    figures: &Path,
    budgets: &Path,
    out: &Path,
    about: &str,
    check: bool,
) -> Result<bool, String> {
    let text =
        std::fs::read_to_string(budgets).map_err(|e| format!("{}: {e}", budgets.display()))?;
    let budgets: Budgets =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", budgets.display()))?;
    let text =
        std::fs::read_to_string(figures).map_err(|e| format!("{}: {e}", figures.display()))?;
    let mut measured = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.splitn(4, '\t').collect();
        let [name, value, unit, command] = cols[..] else {
            return Err(format!(
                "{}:{}: want 4 tab-separated columns",
                figures.display(),
                n + 1
            ));
        };
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| format!("{}:{}: `{value}` is not a number", figures.display(), n + 1))?;
        measured.push(Figure {
            name: name.trim().to_owned(),
            value,
            unit: unit.trim().to_owned(),
            command: command.trim().to_owned(),
        });
    }

    let mut md = String::new();
    let mut rows = Vec::new();
    let mut missed = Vec::new();
    let w = |e: std::fmt::Error| e.to_string();
    if !about.is_empty() {
        writeln!(md, "{about}\n").map_err(w)?;
    }
    writeln!(md, "| figure | value | budget | result | command |").map_err(w)?;
    writeln!(md, "|---|---|---|---|---|").map_err(w)?;
    for b in &budgets.figure {
        let bound = match (b.min, b.max) {
            (Some(min), _) => format!("≥ {} (−{:.0}% noise)", show(min), b.noise * 100.0),
            (None, Some(max)) => format!("≤ {} (+{:.0}% noise)", show(max), b.noise * 100.0),
            (None, None) => "none".to_owned(),
        };
        let Some(f) = measured.iter().find(|f| f.name == b.name) else {
            writeln!(md, "| {} | not measured | {bound} | — | |", b.what).map_err(w)?;
            rows.push(
                serde_json::json!({"name": b.name, "what": b.what, "result": "not measured"}),
            );
            continue;
        };
        let result = verdict(f.value, b);
        if result == "FAIL" {
            missed.push(format!(
                "{} ({}: {} {})",
                b.name,
                b.what,
                show(f.value),
                f.unit
            ));
        }
        writeln!(
            md,
            "| {} | {} {} | {bound} | {result} | `{}` |",
            b.what,
            show(f.value),
            f.unit,
            f.command
        )
        .map_err(w)?;
        rows.push(serde_json::json!({
            "name": b.name, "what": b.what, "value": f.value, "unit": f.unit,
            "min": b.min, "max": b.max, "noise": b.noise, "result": result, "command": f.command,
        }));
    }
    for f in measured
        .iter()
        .filter(|f| !budgets.figure.iter().any(|b| b.name == f.name))
    {
        writeln!(
            md,
            "| {} | {} {} | no budget | — | `{}` |",
            f.name,
            show(f.value),
            f.unit,
            f.command
        )
        .map_err(w)?;
        rows.push(serde_json::json!({
            "name": f.name, "value": f.value, "unit": f.unit, "result": "no budget",
            "command": f.command,
        }));
    }

    print!("{md}");
    let md_path = out.with_extension("md");
    let json_path = out.with_extension("json");
    std::fs::write(&md_path, &md).map_err(|e| format!("{}: {e}", md_path.display()))?;
    let json = serde_json::json!({ "about": about, "figures": rows });
    let json = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    std::fs::write(&json_path, json).map_err(|e| format!("{}: {e}", json_path.display()))?;
    println!(
        "\nwritten: {} and {}",
        md_path.display(),
        json_path.display()
    );

    if check && !missed.is_empty() {
        eprintln!(
            "bench --check: {} figure(s) missed their budget:",
            missed.len()
        );
        for m in &missed {
            eprintln!("  {m}");
        }
        return Ok(false);
    }
    Ok(true)
}

fn verdict(value: f64, b: &Budget) -> &'static str {
    if !value.is_finite() {
        return "FAIL";
    }
    match (b.min, b.max) {
        (Some(min), _) if value >= min => "pass",
        (Some(min), _) if value >= min * (1.0 - b.noise) => "pass (within noise)",
        (Some(_), _) => "FAIL",
        (None, Some(max)) if value <= max => "pass",
        (None, Some(max)) if value <= max * (1.0 + b.noise) => "pass (within noise)",
        (None, Some(_)) => "FAIL",
        (None, None) => "pass",
    }
}

fn show(v: f64) -> String {
    if v.abs() >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(min: Option<f64>, max: Option<f64>) -> Budget {
        Budget {
            name: "x".into(),
            what: "x".into(),
            min,
            max,
            noise: 0.1,
        }
    }

    #[test]
    fn a_figure_past_its_budget_by_more_than_the_noise_fails() {
        assert_eq!(verdict(100.0, &budget(Some(100.0), None)), "pass");
        assert_eq!(
            verdict(95.0, &budget(Some(100.0), None)),
            "pass (within noise)"
        );
        assert_eq!(verdict(89.0, &budget(Some(100.0), None)), "FAIL");
        assert_eq!(
            verdict(105.0, &budget(None, Some(100.0))),
            "pass (within noise)"
        );
        assert_eq!(verdict(111.0, &budget(None, Some(100.0))), "FAIL");
        assert_eq!(verdict(f64::NAN, &budget(None, Some(100.0))), "FAIL");
    }
}
