//! The reminder rules page (`/staff/rules`): every rule at a glance, and an editor for one
//! (the default rule unless `?rule=ID`) that checks the rule as it is typed, previews what it
//! would do today, and saves it (admins; a rule someone else saved first is never
//! overwritten).

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::reminders::{DryRunRule, GetRule, RulesOverview, SaveRule, list_rules};
use crate::components::focus::focus_later;
use crate::components::resource::resource;
use crate::components::staff_error::StaffError;
use crate::error::AppError;
use crate::model::enums::{StaffRole, StepAction, StepTrigger};
use crate::model::portal::format_money;
use crate::model::promises::{amount_input, parse_amount};
use crate::model::reminders::{
    DryRunReport, MAX_NAME_CHARS, MAX_SEGMENT_CHARS, MAX_STEP_DAYS, MAX_STEPS, RuleScope, RuleView,
    StepView, TemplateChoice, check_name, check_scope, check_steps,
};

/// The rule opened when the address names none (`services::reminders::DEFAULT_RULE_NAME`).
const DEFAULT_RULE: &str = "Standard reminders";
/// The currency balances in a scope are typed and shown in.
const SCOPE_CURRENCY: &str = "USD";

fn action_text(action: StepAction) -> &'static str {
    match action {
        StepAction::Email => "email",
        StepAction::Call => "call",
        StepAction::Letter => "letter",
    }
}

/// "email at 14 days old", "call 10 days past due".
fn step_phrase(step: &StepView) -> String {
    let unit = if step.days == 1 { "day" } else { "days" };
    let when = match step.trigger {
        StepTrigger::InvoiceAge => format!("at {} {unit} old", step.days),
        StepTrigger::DaysPastDue if step.days == 0 => "on the due date".to_owned(),
        StepTrigger::DaysPastDue => format!("{} {unit} past due", step.days),
    };
    format!("{} {when}", action_text(step.action))
}

fn steps_summary(steps: &[StepView]) -> String {
    if steps.is_empty() {
        return "no steps".to_owned();
    }
    steps.iter().map(step_phrase).collect::<Vec<_>>().join(", ")
}

fn scope_summary(scope: &RuleScope, staff: &[(i64, String)]) -> String {
    if scope.is_everyone() {
        return "All accounts".to_owned();
    }
    let mut parts = Vec::new();
    if let Some(segment) = &scope.segment {
        parts.push(format!("segment “{segment}”"));
    }
    if let Some(minor) = scope.balance_above_minor {
        parts.push(format!(
            "balance above {}",
            format_money(minor, SCOPE_CURRENCY)
        ));
    }
    if let Some(id) = scope.collector_id {
        let name = staff
            .iter()
            .find(|(s, _)| *s == id)
            .map_or_else(|| format!("staff #{id}"), |(_, n)| n.clone());
        parts.push(format!("collector {name}"));
    }
    parts.join(" · ")
}

fn error_text(err: AppError) -> String {
    match err {
        AppError::Validation { field, message } => {
            let place = match field.as_str() {
                "name" => "Name".to_owned(),
                "segment" => "Segment".to_owned(),
                "balance_above_minor" => "Balance above".to_owned(),
                "collector_id" => "Collector".to_owned(),
                "steps" => "Steps".to_owned(),
                other => other
                    .strip_prefix("steps[")
                    .and_then(|rest| rest.strip_suffix(']'))
                    .and_then(|i| i.parse::<usize>().ok())
                    .map_or_else(|| other.to_owned(), |i| format!("Step {}", i + 1)),
            };
            format!("{place}: {message}")
        }
        AppError::Unauthorized => "Please sign in as staff.".to_owned(),
        AppError::Forbidden => "Your role cannot do that.".to_owned(),
        other => other.to_string(),
    }
}

#[component]
pub fn StaffRulesPage() -> impl IntoView {
    let overview = resource(|| (), |_| list_rules());
    view! {
        <Title text="Reminder rules" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => Either::Left(view! { <RulesScreen overview /> }),
                    Err(err) => Either::Right(view! { <StaffError err /> }),
                }
            })}
        </Transition>
    }
}

#[component]
fn RulesScreen(overview: RulesOverview) -> impl IntoView {
    let RulesOverview {
        rules,
        templates,
        staff,
        role,
    } = overview;
    let query = use_query_map();
    let default_id = rules
        .iter()
        .find(|r| r.name == DEFAULT_RULE)
        .or(rules.first())
        .and_then(|r| r.id);
    let rules = RwSignal::new(rules);
    let staff = StoredValue::new(staff);
    let templates = StoredValue::new(templates);
    let selected = Memo::new(move |_| {
        query
            .read()
            .get("rule")
            .and_then(|v| v.parse::<i64>().ok())
            .or(default_id)
    });
    let list = move || {
        let rows = rules.get();
        if rows.is_empty() {
            return Either::Left(view! {
                <p class="empty" data-testid="no-rules">"No reminder rule yet: the scheduler reminds no one."</p>
            });
        }
        Either::Right(view! {
            <div class="table-wrap">
                <table class="invoices" data-testid="rules">
                    <thead>
                        <tr>
                            <th scope="col">"Rule"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Accounts"</th>
                            <th scope="col">"Steps"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|r| {
                            let id = r.id.unwrap_or_default();
                            let current = move || (selected.get() == Some(id)).then_some("true");
                            let scope = staff.with_value(|s| scope_summary(&r.scope, s));
                            view! {
                                <tr data-testid=format!("rule-{id}")>
                                    <td data-label="Rule"><a href=format!("/staff/rules?rule={id}") aria-current=current>{r.name.clone()}</a></td>
                                    <td data-label="Status">{if r.active { "Active" } else { "Paused" }}</td>
                                    <td data-label="Accounts">{scope}</td>
                                    <td data-label="Steps">{steps_summary(&r.steps)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })
    };
    let editor = move || {
        let id = selected.get();
        let rule =
            rules.with_untracked(|rs| rs.iter().find(|r| r.id.is_some() && r.id == id).cloned());
        match (rule, id) {
            (Some(rule), _) => EitherOf3::A(view! {
                <RuleEditor rule templates=templates.get_value() staff=staff.get_value() role rules />
            }),
            (None, Some(_)) => EitherOf3::B(view! {
                <div class="notice" role="alert" data-testid="no-such-rule">
                    <p>"There is no such rule."</p>
                    <p><a href="/staff/rules">"The default rule"</a></p>
                </div>
            }),
            (None, None) => EitherOf3::C(()),
        }
    };
    view! {
        <section class="panel" aria-labelledby="rules-title">
            <h1 id="rules-title">"Reminder rules"</h1>
            <p class="muted">
                "Every day the scheduler gives each open invoice in a rule's accounts the latest step it has reached, once: an email to the billing contact, a call task or a letter task. Changes apply from the next run."
            </p>
            {list}
        </section>
        {editor}
    }
}

/// One step of the rule being edited; `key` tells rows apart while they move.
#[derive(Clone, Copy)]
struct StepRow {
    key: u32,
    id: Option<i64>,
    trigger: RwSignal<StepTrigger>,
    days: RwSignal<String>,
    action: RwSignal<StepAction>,
    /// Kept while the action is not an email, so switching back restores it.
    template: RwSignal<Option<i64>>,
}

/// The rule as typed in the editor.
#[derive(Clone, Copy)]
struct Draft {
    id: Option<i64>,
    version: RwSignal<i32>,
    updated_at: RwSignal<String>,
    name: RwSignal<String>,
    active: RwSignal<bool>,
    segment: RwSignal<String>,
    balance: RwSignal<String>,
    collector: RwSignal<String>,
    steps: RwSignal<Vec<StepRow>>,
    next_key: StoredValue<u32>,
    /// The editor's owner: rows added later live (and are disposed) with the editor.
    owner: StoredValue<Owner>,
}

/// What is wrong with the draft, by field; rows by key.
#[derive(Clone, Debug, Default, PartialEq)]
struct Problems {
    name: Option<String>,
    segment: Option<String>,
    balance: Option<String>,
    collector: Option<String>,
    steps: Option<String>,
    step: Vec<(u32, String)>,
}

impl Problems {
    fn is_empty(&self) -> bool {
        *self == Problems::default()
    }

    fn of_step(&self, key: u32) -> Option<String> {
        self.step
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, m)| m.clone())
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Checked {
    rule: RuleView,
    problems: Problems,
}

impl Draft {
    fn new(rule: &RuleView) -> Self {
        let draft = Draft {
            id: rule.id,
            version: RwSignal::new(0),
            updated_at: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            active: RwSignal::new(false),
            segment: RwSignal::new(String::new()),
            balance: RwSignal::new(String::new()),
            collector: RwSignal::new(String::new()),
            steps: RwSignal::new(Vec::new()),
            next_key: StoredValue::new(0),
            owner: StoredValue::new(Owner::current().unwrap_or_default()),
        };
        draft.load(rule);
        draft
    }

    /// Replaces everything typed with `rule` as saved.
    fn load(&self, rule: &RuleView) {
        self.version.set(rule.version);
        self.updated_at.set(rule.updated_at.clone());
        self.name.set(rule.name.clone());
        self.active.set(rule.active);
        self.segment
            .set(rule.scope.segment.clone().unwrap_or_default());
        self.balance.set(
            rule.scope
                .balance_above_minor
                .map(amount_input)
                .unwrap_or_default(),
        );
        self.collector.set(
            rule.scope
                .collector_id
                .map(|c| c.to_string())
                .unwrap_or_default(),
        );
        let rows = rule.steps.iter().map(|s| self.row(s)).collect();
        self.steps.set(rows);
    }

    fn row(&self, step: &StepView) -> StepRow {
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        self.owner.with_value(|owner| {
            owner.with(|| StepRow {
                key,
                id: step.id,
                trigger: RwSignal::new(step.trigger),
                days: RwSignal::new(step.days.to_string()),
                action: RwSignal::new(step.action),
                template: RwSignal::new(step.template_id),
            })
        })
    }

    /// The rule as typed and what is wrong with it, with the checks the server makes.
    fn check(&self) -> Checked {
        let mut problems = Problems::default();
        let name = self.name.get();
        if let Err(m) = check_name(&name) {
            problems.name = Some(m);
        }
        let segment = Some(self.segment.get().trim().to_owned()).filter(|s| !s.is_empty());
        let balance_above_minor = match self.balance.get().trim() {
            "" => None,
            text => match parse_amount(text) {
                Ok(minor) => Some(minor),
                Err(m) => {
                    problems.balance = Some(m);
                    None
                }
            },
        };
        let collector_id = self.collector.get().parse::<i64>().ok();
        let scope = RuleScope {
            segment,
            balance_above_minor,
            collector_id,
        };
        if let Err((field, m)) = check_scope(&scope) {
            match field {
                "segment" => problems.segment = Some(m),
                "balance_above_minor" => problems.balance = Some(m),
                _ => problems.collector = Some(m),
            }
        }
        let rows = self.steps.get();
        let mut steps = Vec::with_capacity(rows.len());
        for row in &rows {
            let days = row.days.get().trim().parse::<i32>().unwrap_or_else(|_| {
                problems.step.push((
                    row.key,
                    format!("enter a whole number of days from 0 to {MAX_STEP_DAYS}"),
                ));
                0
            });
            let action = row.action.get();
            steps.push(StepView {
                id: row.id,
                trigger: row.trigger.get(),
                days,
                action,
                template_id: if action == StepAction::Email {
                    row.template.get()
                } else {
                    None
                },
            });
        }
        if problems.step.is_empty()
            && let Err((index, m)) = check_steps(&steps)
        {
            match index.and_then(|i| rows.get(i)) {
                Some(row) => problems.step.push((row.key, m)),
                None => problems.steps = Some(m),
            }
        }
        Checked {
            rule: RuleView {
                id: self.id,
                name: name.trim().to_owned(),
                active: self.active.get(),
                scope,
                steps,
                version: self.version.get(),
                updated_at: String::new(),
            },
            problems,
        }
    }

    fn add_step(&self) {
        let days = self.steps.with_untracked(|rows| {
            rows.iter()
                .filter(|r| r.trigger.get_untracked() == StepTrigger::DaysPastDue)
                .filter_map(|r| r.days.with_untracked(|d| d.trim().parse::<i32>().ok()))
                .max()
                .map_or(1, |d| (d + 10).min(MAX_STEP_DAYS))
        });
        let row = self.row(&StepView {
            id: None,
            trigger: StepTrigger::DaysPastDue,
            days,
            action: StepAction::Call,
            template_id: None,
        });
        self.steps.update(|rows| rows.push(row));
        focus_later(format!("step-{}-days", row.key));
    }

    fn move_step(&self, key: u32, up: bool) {
        let mut moved_to = None;
        self.steps.update(|rows| {
            let Some(i) = rows.iter().position(|r| r.key == key) else {
                return;
            };
            let j = if up {
                i.checked_sub(1)
            } else {
                Some(i + 1).filter(|j| *j < rows.len())
            };
            if let Some(j) = j {
                rows.swap(i, j);
                moved_to = Some((j, rows.len()));
            }
        });
        if let Some((at, len)) = moved_to {
            // Keep focus on the moved step: on the same button unless it just became disabled.
            let up = if at == 0 {
                false
            } else if at + 1 == len {
                true
            } else {
                up
            };
            focus_later(format!("step-{key}-{}", if up { "up" } else { "down" }));
        }
    }

    fn remove_step(&self, key: u32) {
        self.steps.update(|rows| rows.retain(|r| r.key != key));
        focus_later("add-step".to_owned());
    }
}

/// Two versions of a rule do the same thing (ids and versions aside).
fn same_rule(a: &RuleView, b: &RuleView) -> bool {
    let plain = |r: &RuleView| {
        let steps: Vec<_> = r
            .steps
            .iter()
            .map(|s| (s.trigger, s.days, s.action, s.template_id))
            .collect();
        (r.name.clone(), r.active, r.scope.clone(), steps)
    };
    plain(a) == plain(b)
}

#[component]
fn RuleEditor(
    rule: RuleView,
    templates: Vec<TemplateChoice>,
    staff: Vec<(i64, String)>,
    role: StaffRole,
    rules: RwSignal<Vec<RuleView>>,
) -> impl IntoView {
    let draft = Draft::new(&rule);
    let checked = Memo::new(move |_| draft.check());
    let templates = StoredValue::new(templates);
    let save = ServerAction::<SaveRule>::new();
    let preview = ServerAction::<DryRunRule>::new();
    let reload = ServerAction::<GetRule>::new();
    let previewed = RwSignal::new(None::<RuleView>);
    let can_preview = role != StaffRole::Viewer;
    let can_save = role == StaffRole::Admin;
    let read_only = !can_preview;

    let show_saved = move |saved: &RuleView| {
        draft.load(saved);
        rules.update(|rs| {
            if let Some(r) = rs.iter_mut().find(|r| r.id == saved.id) {
                *r = saved.clone();
            }
        });
    };
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            show_saved(&saved);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(fresh)) = reload.value().get() {
            show_saved(&fresh);
            save.clear();
        }
    });

    let on_preview = move |_| {
        let Checked { rule, problems } = checked.get_untracked();
        if problems.is_empty() {
            previewed.set(Some(rule.clone()));
            preview.dispatch(DryRunRule { rule });
        }
    };
    let on_save = move |_| {
        let Checked { rule, problems } = checked.get_untracked();
        if can_save && problems.is_empty() {
            reload.clear();
            save.dispatch(SaveRule { rule });
        }
    };
    let on_reload = move |_| {
        if let Some(id) = draft.id {
            reload.dispatch(GetRule { id });
        }
    };
    let invalid = move || !checked.with(|c| c.problems.is_empty());
    let problem =
        move |pick: fn(&Problems) -> Option<String>| move || checked.with(|c| pick(&c.problems));

    let role_note = match role {
        StaffRole::Admin => None,
        StaffRole::Collector => Some(
            "Only an admin can save rules. You can change this one here and preview what it would do today.",
        ),
        StaffRole::Viewer => Some("Your role can look at rules but not change or preview them."),
    };
    let save_status = move || match save.value().get() {
        Some(Ok(saved)) => Some(EitherOf3::A(view! {
            <p class="ok" role="status" data-testid="rule-saved">
                {format!("Saved. This is now version {}; the next run follows it.", saved.version)}
            </p>
        })),
        Some(Err(AppError::Conflict(message))) => Some(EitherOf3::B(view! {
            <div class="notice" role="alert" data-testid="rule-conflict">
                <p><strong>"Not saved: someone else saved this rule after you opened it."</strong></p>
                <p>{message}</p>
                <button class="button" type="button" on:click=on_reload disabled=move || reload.pending().get()>"Reload the rule"</button>
            </div>
        })),
        Some(Err(err)) => Some(EitherOf3::C(view! {
            <p class="field-error" role="alert" data-testid="rule-error">{error_text(err)}</p>
        })),
        None => None,
    };
    let reload_status = move || match reload.value().get() {
        Some(Ok(r)) => Some(Either::Left(view! {
            <p class="ok" role="status" data-testid="rule-reloaded">
                {format!("Reloaded version {} (saved {}). Make your change again.", r.version, r.updated_at)}
            </p>
        })),
        Some(Err(err)) => Some(Either::Right(view! {
            <p class="field-error" role="alert">{error_text(err)}</p>
        })),
        None => None,
    };
    let preview_result = move || {
        preview.value().get().map(|result| match result {
            Ok(report) => {
                let stale = move || {
                    previewed.with(|p| {
                        p.as_ref()
                            .is_some_and(|p| checked.with(|c| !same_rule(p, &c.rule)))
                    })
                };
                Either::Left(view! {
                    {move || stale().then(|| view! {
                        <p class="muted" data-testid="dry-run-stale">"You changed the rule since this preview; preview again to see the effect."</p>
                    })}
                    <DryRunView report />
                })
            }
            Err(err) => Either::Right(view! {
                <p class="field-error" role="alert" data-testid="dry-run-error">{error_text(err)}</p>
            }),
        })
    };

    let collector_options = staff
        .into_iter()
        .map(|(id, name)| {
            let value = id.to_string();
            let selected = {
                let value = value.clone();
                move || draft.collector.with(|c| *c == value)
            };
            view! { <option value=value selected=selected>{name}</option> }
        })
        .collect_view();
    let full = move || draft.steps.with(|rows| rows.len() >= MAX_STEPS);

    view! {
        <section class="panel" aria-labelledby="editor-title" data-testid="rule-editor">
            <h2 id="editor-title">"Edit “" {rule.name.clone()} "”"</h2>
            <p class="muted small" data-testid="rule-version">
                {move || format!("Version {} · last saved {}", draft.version.get(), draft.updated_at.get())}
            </p>
            {role_note.map(|note| view! { <p class="notice-inline" data-testid="rule-read-only">{note}</p> })}
            <div class="stack">
                <label for="rule-name">"Name"</label>
                <input id="rule-name" maxlength=MAX_NAME_CHARS.to_string() disabled=read_only
                    aria-describedby="rule-name-error"
                    aria-invalid=move || checked.with(|c| c.problems.name.is_some()).to_string()
                    value=draft.name.get_untracked()
                    prop:value=move || draft.name.get()
                    on:input=move |ev| draft.name.set(event_target_value(&ev)) />
                <p class="field-error" id="rule-name-error">{problem(|p| p.name.clone())}</p>
                <label class="check">
                    <input type="checkbox" id="rule-active" disabled=read_only
                        checked=draft.active.get_untracked()
                        prop:checked=move || draft.active.get()
                        on:change=move |ev| draft.active.set(event_target_checked(&ev)) />
                    "Active"
                </label>
                <p class="muted small">"The scheduler follows active rules only."</p>
            </div>

            <fieldset class="rule-step">
                <legend>"Which accounts"</legend>
                <p class="muted small">"Leave all three empty to remind every account. Every condition you set must hold."</p>
                <div class="filters">
                    <label>
                        "Segment"
                        <input id="rule-segment" maxlength=MAX_SEGMENT_CHARS.to_string() disabled=read_only
                            aria-describedby="rule-segment-error"
                            value=draft.segment.get_untracked()
                            prop:value=move || draft.segment.get()
                            on:input=move |ev| draft.segment.set(event_target_value(&ev)) />
                    </label>
                    <label>
                        "Balance above ($)"
                        <input id="rule-balance" inputmode="decimal" placeholder="0.00" disabled=read_only
                            aria-describedby="rule-balance-error"
                            value=draft.balance.get_untracked()
                            prop:value=move || draft.balance.get()
                            on:input=move |ev| draft.balance.set(event_target_value(&ev)) />
                    </label>
                    <label>
                        "Collector"
                        <select id="rule-collector" disabled=read_only aria-describedby="rule-collector-error"
                            on:change=move |ev| draft.collector.set(event_target_value(&ev))>
                            <option value="" selected=move || draft.collector.with(String::is_empty)>"Any collector"</option>
                            {collector_options}
                        </select>
                    </label>
                </div>
                <p class="field-error" id="rule-segment-error">{problem(|p| p.segment.clone())}</p>
                <p class="field-error" id="rule-balance-error">{problem(|p| p.balance.clone())}</p>
                <p class="field-error" id="rule-collector-error">{problem(|p| p.collector.clone())}</p>
            </fieldset>

            <h3 id="steps-title">"Steps"</h3>
            <p class="muted small">
                "Steps of one kind go in order of days. An invoice that has reached several steps gets only the latest; the earlier ones never fire late."
            </p>
            <div class="stack" aria-labelledby="steps-title" data-testid="rule-steps">
                <For each=move || draft.steps.get() key=|row| row.key children=move |row| {
                    view! { <StepEditor row draft checked templates read_only /> }
                } />
            </div>
            <p class="field-error" id="rule-steps-error" data-testid="steps-error">{problem(|p| p.steps.clone())}</p>
            <div class="actions">
                <button class="button" type="button" id="add-step"
                    disabled=move || read_only || full()
                    on:click=move |_| draft.add_step()>"Add a step"</button>
            </div>

            <div class="actions">
                <button class="button" type="button"
                    disabled=move || !can_preview || invalid() || preview.pending().get()
                    aria-busy=move || preview.pending().get().to_string()
                    on:click=on_preview>"Preview today"</button>
                <button class="button primary" type="button"
                    disabled=move || !can_save || invalid() || save.pending().get()
                    aria-busy=move || save.pending().get().to_string()
                    on:click=on_save>"Save rule"</button>
                {move || (preview.pending().get() || save.pending().get()).then(|| view! {
                    <span class="spinner" role="status" aria-label="Working"></span>
                })}
            </div>
            {move || invalid().then(|| view! {
                <p class="muted small" data-testid="rule-invalid">"Fix the problems above to preview or save."</p>
            })}
            {save_status}
            {reload_status}
            {preview_result}
        </section>
    }
}

#[component]
fn StepEditor(
    row: StepRow,
    draft: Draft,
    checked: Memo<Checked>,
    templates: StoredValue<Vec<TemplateChoice>>,
    read_only: bool,
) -> impl IntoView {
    let key = row.key;
    let index = move || {
        draft
            .steps
            .with(|rows| rows.iter().position(|r| r.key == key))
            .unwrap_or_default()
    };
    let is_last = move || {
        draft
            .steps
            .with(|rows| rows.last().is_some_and(|r| r.key == key))
    };
    let id = move |part: &str| format!("step-{key}-{part}");
    let error = move || checked.with(|c| c.problems.of_step(key));
    let template_select = move || {
        (row.action.get() == StepAction::Email).then(|| {
            let options = templates.with_value(|ts| {
                ts.iter()
                    .map(|t| {
                        let tid = t.id;
                        view! {
                            <option value=tid.to_string() selected=move || row.template.get() == Some(tid)>{t.name.clone()}</option>
                        }
                    })
                    .collect_view()
            });
            view! {
                <label>
                    "Template"
                    <select id=id("template") disabled=read_only
                        on:change=move |ev| row.template.set(event_target_value(&ev).parse::<i64>().ok())>
                        <option value="" selected=move || row.template.get().is_none()>"Choose a template"</option>
                        {options}
                    </select>
                </label>
            }
        })
    };
    view! {
        <fieldset class="rule-step" data-testid=move || format!("step-{}", index())
            aria-describedby=id("error")>
            <legend>{move || format!("Step {}", index() + 1)}</legend>
            <div class="filters">
                <label>
                    "Trigger"
                    <select id=id("trigger") disabled=read_only
                        on:change=move |ev| {
                            if let Some(t) = StepTrigger::parse(&event_target_value(&ev)) {
                                row.trigger.set(t);
                            }
                        }>
                        <option value="invoice_age" selected=move || row.trigger.get() == StepTrigger::InvoiceAge>"Invoice age"</option>
                        <option value="days_past_due" selected=move || row.trigger.get() == StepTrigger::DaysPastDue>"Days past due"</option>
                    </select>
                </label>
                <label>
                    "Days"
                    <input id=id("days") type="number" inputmode="numeric" min="0" max=MAX_STEP_DAYS.to_string()
                        disabled=read_only
                        aria-invalid=move || error().is_some().to_string()
                        value=row.days.get_untracked()
                        prop:value=move || row.days.get()
                        on:input=move |ev| row.days.set(event_target_value(&ev)) />
                </label>
                <label>
                    "Action"
                    <select id=id("action") disabled=read_only
                        on:change=move |ev| {
                            if let Some(a) = StepAction::parse(&event_target_value(&ev)) {
                                row.action.set(a);
                            }
                        }>
                        <option value="email" selected=move || row.action.get() == StepAction::Email>"Email"</option>
                        <option value="call" selected=move || row.action.get() == StepAction::Call>"Call task"</option>
                        <option value="letter" selected=move || row.action.get() == StepAction::Letter>"Letter"</option>
                    </select>
                </label>
                {template_select}
                <div class="filter-actions">
                    <button class="button" type="button" id=id("up")
                        disabled=move || read_only || index() == 0
                        on:click=move |_| draft.move_step(key, true)>"Move up"</button>
                    <button class="button" type="button" id=id("down")
                        disabled=move || read_only || is_last()
                        on:click=move |_| draft.move_step(key, false)>"Move down"</button>
                    <button class="button" type="button" id=id("remove")
                        disabled=read_only
                        on:click=move |_| draft.remove_step(key)>"Remove"</button>
                </div>
            </div>
            <p class="field-error" id=id("error") data-testid=move || format!("step-{}-error", index())>{error}</p>
        </fieldset>
    }
}

#[component]
fn DryRunView(report: DryRunReport) -> impl IntoView {
    let touched = report.touched();
    let shown = u64::try_from(report.sample.len()).unwrap_or(u64::MAX);
    let skipped = if report.skipped.is_empty() {
        Either::Left(
            view! { <div><dt>"Skipped"</dt><dd data-testid="dry-run-skipped">"none"</dd></div> },
        )
    } else {
        Either::Right(
            report
                .skipped
                .iter()
                .map(|(reason, n)| {
                    view! {
                        <div>
                            <dt>{format!("Skipped: {}", reason.label())}</dt>
                            <dd data-testid=format!("dry-run-skipped-{}", reason.label().replace(' ', "-"))>{*n}</dd>
                        </div>
                    }
                })
                .collect_view(),
        )
    };
    let sample = if report.sample.is_empty() {
        Either::Left(
            view! { <p class="empty" data-testid="dry-run-none">"Nothing to send or call about today."</p> },
        )
    } else {
        Either::Right(view! {
            <div class="table-wrap">
                <table class="invoices" data-testid="dry-run-sample">
                    <thead>
                        <tr>
                            <th scope="col">"Account"</th>
                            <th scope="col">"Invoice"</th>
                            <th scope="col">"Step"</th>
                            <th scope="col">"Action"</th>
                            <th scope="col" class="num">"Amount asked"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {report.sample.into_iter().map(|t| view! {
                            <tr>
                                <td data-label="Account">{t.account_name}<br /><span class="muted small">{t.account_number}</span></td>
                                <td data-label="Invoice">{t.invoice_number}</td>
                                <td data-label="Step">{format!("Step {} · {}", t.step, t.when)}</td>
                                <td data-label="Action">{action_text(t.action)}</td>
                                <td data-label="Amount asked" class="num">{format_money(t.amount_minor, &t.currency)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })
    };
    view! {
        <div class="preview" data-testid="dry-run" role="status">
            <h3>{format!("If this rule ran today ({}) — nothing was sent", report.day)}</h3>
            <dl class="fields">
                <div><dt>"Invoices emailed"</dt><dd data-testid="dry-run-emails">{report.emailed_invoices}</dd></div>
                <div><dt>"Invoices to call about"</dt><dd data-testid="dry-run-calls">{report.called_invoices}</dd></div>
                <div><dt>"Invoices for a letter"</dt><dd data-testid="dry-run-letters">{report.lettered_invoices}</dd></div>
                <div><dt>"Accounts emailed"</dt><dd data-testid="dry-run-accounts">{report.accounts_emailed}</dd></div>
                <div><dt>"Emails / tasks"</dt><dd>{format!("{} emails, {} tasks", report.emails, report.tasks)}</dd></div>
                <div><dt>"Emails that become calls (no usable address)"</dt><dd data-testid="dry-run-became-call">{report.email_became_call}</dd></div>
                <div><dt>"Already reminded for their latest step"</dt><dd data-testid="dry-run-already">{report.already_touched}</dd></div>
                <div><dt>"Earlier steps passed over"</dt><dd>{report.steps_passed}</dd></div>
                {skipped}
            </dl>
            {sample}
            {(shown < touched).then(|| view! {
                <p class="muted small">{format!("Showing the first {shown} of {touched} invoices.")}</p>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_as_a_sentence() {
        let step = |trigger, days, action| StepView {
            id: None,
            trigger,
            days,
            action,
            template_id: None,
        };
        let steps = [
            step(StepTrigger::InvoiceAge, 14, StepAction::Email),
            step(StepTrigger::DaysPastDue, 1, StepAction::Email),
            step(StepTrigger::DaysPastDue, 10, StepAction::Call),
            step(StepTrigger::DaysPastDue, 0, StepAction::Letter),
        ];
        assert_eq!(
            steps_summary(&steps),
            "email at 14 days old, email 1 day past due, call 10 days past due, letter on the due date"
        );
        assert_eq!(scope_summary(&RuleScope::default(), &[]), "All accounts");
        let scope = RuleScope {
            segment: Some("retail".to_owned()),
            balance_above_minor: Some(100_000),
            collector_id: Some(7),
        };
        assert_eq!(
            scope_summary(&scope, &[(7, "Ann".to_owned())]),
            "segment “retail” · balance above $1,000.00 · collector Ann"
        );
    }
}
