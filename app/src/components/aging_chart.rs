//! A bar chart of the aging buckets, drawn as inline SVG so it renders on the server.

use leptos::prelude::*;

use crate::model::portal::{Aging, format_money};

const WIDTH: i64 = 500;
const BAR_AREA: i64 = 140;

#[component]
pub fn AgingChart(aging: Aging, currency: String) -> impl IntoView {
    let buckets = aging.buckets();
    let max = buckets.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let slot = WIDTH / buckets.len() as i64;
    let bars = buckets
        .into_iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let height = (value.max(0) * BAR_AREA) / max;
            let x = i as i64 * slot + 12;
            let y = 10 + BAR_AREA - height;
            let amount = format_money(value, &currency);
            view! {
                <g class=format!("bar bucket-{i}")>
                    <title>{format!("{label} days: {amount}")}</title>
                    <rect x=x y=y width=slot - 24 height=height rx="3" />
                    <text class="bar-value" x=x + (slot - 24) / 2 y=y - 4 text-anchor="middle">{amount.clone()}</text>
                    <text class="bar-label" x=x + (slot - 24) / 2 y=BAR_AREA + 28 text-anchor="middle">{label}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="aging-chart" viewBox=format!("0 -10 {WIDTH} {}", BAR_AREA + 50) role="img" aria-label="Open balance by days past due">
            {bars}
        </svg>
    }
}
