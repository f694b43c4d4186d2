//! The data table: typed columns, sorting by header, a text filter, paging or virtual rows for
//! long lists, and the loading / empty / error states of the data behind it. The server renders
//! the first page (or window), so a table is readable before the page hydrates.

use std::{cmp::Ordering, ops::Range, sync::Arc};

use leptos::prelude::*;
use leptos::tachys::html::attribute::{
    any_attribute::{AnyAttribute, IntoAnyAttribute},
    custom::custom_attribute,
};
use serde::{Serialize, de::DeserializeOwned};

use super::{EmptyState, ErrorPanel, Loading};
use crate::ConsoleError;
use crate::i18n::{t_string, use_i18n};

// ---------------------------------------------------------------------------------------------
// Pure parts: sort keys, filtering, paging and the virtual window.

/// What a column sorts by. Text compares naturally ("node-2" before "node-10") and without
/// regard to case; numbers before text; a missing value sorts last whichever the direction.
#[derive(Clone, Debug, PartialEq)]
pub enum SortKey {
    Number(i64),
    Text(String),
    Missing,
}

impl From<String> for SortKey {
    fn from(text: String) -> Self {
        SortKey::Text(text)
    }
}

impl From<&str> for SortKey {
    fn from(text: &str) -> Self {
        SortKey::Text(text.to_string())
    }
}

impl From<i64> for SortKey {
    fn from(n: i64) -> Self {
        SortKey::Number(n)
    }
}

impl From<usize> for SortKey {
    fn from(n: usize) -> Self {
        SortKey::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<bool> for SortKey {
    fn from(b: bool) -> Self {
        SortKey::Number(i64::from(b))
    }
}

impl<K: Into<SortKey>> From<Option<K>> for SortKey {
    fn from(value: Option<K>) -> Self {
        value.map_or(SortKey::Missing, Into::into)
    }
}

/// Compares text as people read it: runs of digits by their value, the rest without regard to
/// case; ties fall back to the exact text so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.chars().next(), y.chars().next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let (n, rest_x) = split_digits(x);
                let (m, rest_y) = split_digits(y);
                let (n_trim, m_trim) = (n.trim_start_matches('0'), m.trim_start_matches('0'));
                let order = n_trim
                    .len()
                    .cmp(&m_trim.len())
                    .then_with(|| n_trim.cmp(m_trim));
                if order != Ordering::Equal {
                    return order;
                }
                (x, y) = (rest_x, rest_y);
            }
            (Some(c), Some(d)) => {
                let order = c.to_lowercase().cmp(d.to_lowercase());
                if order != Ordering::Equal {
                    return order;
                }
                (x, y) = (&x[c.len_utf8()..], &y[d.len_utf8()..]);
            }
        }
    }
}

fn split_digits(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortDirection {
    Ascending,
    Descending,
}

/// Which column a table is sorted by, and which way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub column: &'static str,
    pub direction: SortDirection,
}

impl Sort {
    pub fn ascending(column: &'static str) -> Self {
        Sort {
            column,
            direction: SortDirection::Ascending,
        }
    }

    pub fn descending(column: &'static str) -> Self {
        Sort {
            column,
            direction: SortDirection::Descending,
        }
    }

    /// The sort after a click on `column`'s header: the same column turns around, another
    /// starts ascending.
    pub fn toggled(current: Option<Sort>, column: &'static str) -> Sort {
        match current {
            Some(sort) if sort.column == column => Sort {
                column,
                direction: match sort.direction {
                    SortDirection::Ascending => SortDirection::Descending,
                    SortDirection::Descending => SortDirection::Ascending,
                },
            },
            _ => Sort::ascending(column),
        }
    }
}

/// The `aria-sort` value of `column`'s header under `sort` (sortable columns only).
pub fn aria_sort(sort: Option<Sort>, column: &str) -> &'static str {
    match sort {
        Some(Sort {
            column: c,
            direction: SortDirection::Ascending,
        }) if c == column => "ascending",
        Some(Sort {
            column: c,
            direction: SortDirection::Descending,
        }) if c == column => "descending",
        _ => "none",
    }
}

/// Orders two keys in `direction`, missing values last either way.
pub fn compare_keys(a: &SortKey, b: &SortKey, direction: SortDirection) -> Ordering {
    let order = match (a, b) {
        (SortKey::Missing, SortKey::Missing) => return Ordering::Equal,
        (SortKey::Missing, _) => return Ordering::Greater,
        (_, SortKey::Missing) => return Ordering::Less,
        (SortKey::Number(x), SortKey::Number(y)) => x.cmp(y),
        (SortKey::Number(_), SortKey::Text(_)) => Ordering::Less,
        (SortKey::Text(_), SortKey::Number(_)) => Ordering::Greater,
        (SortKey::Text(x), SortKey::Text(y)) => natural_cmp(x, y),
    };
    match direction {
        SortDirection::Ascending => order,
        SortDirection::Descending => order.reverse(),
    }
}

/// Whether a row whose filterable texts are `texts` matches `needle`: every word of the needle
/// (case ignored) appears in one of them. An empty needle matches every row.
pub fn matches_filter<'a>(texts: impl IntoIterator<Item = &'a str> + Clone, needle: &str) -> bool {
    let words = filter_words(needle);
    let texts: Vec<String> = texts.into_iter().map(str::to_lowercase).collect();
    matches_words(&texts, &words)
}

/// The needle's words, lower-cased once for a whole list.
fn filter_words(needle: &str) -> Vec<String> {
    needle.split_whitespace().map(str::to_lowercase).collect()
}

/// Whether every word appears in one of the (lower-cased) texts.
fn matches_words(texts: &[String], words: &[String]) -> bool {
    words
        .iter()
        .all(|word| texts.iter().any(|text| text.contains(word.as_str())))
}

/// The indices of `rows` that pass `filter`, in the order of `sort` (stable: equal rows keep
/// the order they came in).
pub fn visible_rows<T>(
    rows: &[T],
    columns: &[Column<T>],
    filter: &str,
    sort: Option<Sort>,
) -> Vec<usize> {
    let filterable: Vec<_> = columns.iter().filter_map(|c| c.filter.clone()).collect();
    let mut indices: Vec<usize> = if filter.trim().is_empty() || filterable.is_empty() {
        (0..rows.len()).collect()
    } else {
        let words = filter_words(filter);
        rows.iter()
            .enumerate()
            .filter(|(_, row)| {
                let texts: Vec<String> = filterable.iter().map(|f| f(row).to_lowercase()).collect();
                matches_words(&texts, &words)
            })
            .map(|(i, _)| i)
            .collect()
    };
    if let Some(sort) = sort
        && let Some(key) = columns
            .iter()
            .find(|c| c.id == sort.column)
            .and_then(|c| c.sort_key.clone())
    {
        let keys: Vec<SortKey> = rows.iter().map(|row| key(row)).collect();
        indices.sort_by(|&a, &b| compare_keys(&keys[a], &keys[b], sort.direction));
    }
    indices
}

/// One page of a paged list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageBounds {
    /// The page shown (the asked one, within the pages there are), from 0.
    pub page: usize,
    /// How many pages there are (at least 1).
    pub pages: usize,
    pub start: usize,
    pub end: usize,
}

/// Page `page` of `total` rows in pages of `size`; a page past the end shows the last one.
pub fn page_bounds(total: usize, size: usize, page: usize) -> PageBounds {
    let size = size.max(1);
    let pages = total.div_ceil(size).max(1);
    let page = page.min(pages - 1);
    let start = (page * size).min(total);
    PageBounds {
        page,
        pages,
        start,
        end: (start + size).min(total),
    }
}

/// The rows a virtual list renders: those in view plus `overscan` on either side, and the
/// heights that stand in for the rows above and below.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtualWindow {
    pub start: usize,
    pub end: usize,
    pub before_px: u32,
    pub after_px: u32,
}

/// The window of `total` rows of `row_px` each in a viewport of `viewport_px` scrolled to
/// `scroll_top` pixels.
pub fn virtual_window(
    total: usize,
    row_px: u32,
    viewport_px: u32,
    scroll_top: f64,
    overscan: usize,
) -> VirtualWindow {
    let row_px = row_px.max(1);
    let top = if scroll_top.is_finite() && scroll_top > 0.0 {
        // Pixels fit in u32 for any list a browser can scroll.
        scroll_top.min(f64::from(u32::MAX)) as u32
    } else {
        0
    };
    let first = ((top / row_px) as usize).min(total);
    let in_view = (viewport_px.div_ceil(row_px) as usize).max(1) + 1;
    let start = first.saturating_sub(overscan);
    let end = (first + in_view + overscan).min(total);
    let px = |rows: usize| {
        u32::try_from(rows)
            .unwrap_or(u32::MAX)
            .saturating_mul(row_px)
    };
    VirtualWindow {
        start,
        end,
        before_px: px(start),
        after_px: px(total - end),
    }
}

// ---------------------------------------------------------------------------------------------
// Columns and the table's definition.

type Cell<T> = Arc<dyn Fn(&T) -> AnyView + Send + Sync>;
type Key<T> = Arc<dyn Fn(&T) -> SortKey + Send + Sync>;
type Text<T> = Arc<dyn Fn(&T) -> String + Send + Sync>;
type Attrs<T> = Arc<dyn Fn(&T) -> Vec<(&'static str, String)> + Send + Sync>;

/// One column: its header, how a row's cell looks, and optionally how the column sorts and
/// what of it the filter searches.
pub struct Column<T> {
    id: &'static str,
    header: Signal<String>,
    cell: Cell<T>,
    sort_key: Option<Key<T>>,
    filter: Option<Text<T>>,
    mono: bool,
    muted: bool,
    centered: bool,
    row_header: bool,
    testid: Option<&'static str>,
}

impl<T> Clone for Column<T> {
    fn clone(&self) -> Self {
        Column {
            id: self.id,
            header: self.header,
            cell: self.cell.clone(),
            sort_key: self.sort_key.clone(),
            filter: self.filter.clone(),
            mono: self.mono,
            muted: self.muted,
            centered: self.centered,
            row_header: self.row_header,
            testid: self.testid,
        }
    }
}

impl<T: 'static> Column<T> {
    /// A column `id` (stable: it names the sort) headed `header`, each cell drawn by `cell`.
    pub fn new<V: IntoAny>(
        id: &'static str,
        header: impl Into<Signal<String>>,
        cell: impl Fn(&T) -> V + Send + Sync + 'static,
    ) -> Self {
        Column {
            id,
            header: header.into(),
            cell: Arc::new(move |row| cell(row).into_any()),
            sort_key: None,
            filter: None,
            mono: false,
            muted: false,
            centered: false,
            row_header: false,
            testid: None,
        }
    }

    /// A column of text that sorts by it and that the filter searches.
    pub fn text(
        id: &'static str,
        header: impl Into<Signal<String>>,
        text: impl Fn(&T) -> String + Send + Sync + 'static,
    ) -> Self {
        let text = Arc::new(text);
        let (sort, filter) = (text.clone(), text.clone());
        Column::new(id, header, move |row: &T| text(row))
            .sort_by(move |row| SortKey::Text(sort(row)))
            .filter_by(move |row| filter(row))
    }

    /// A column of links, `link` giving each row's `(href, text)`; sorts and filters by the text.
    pub fn link(
        id: &'static str,
        header: impl Into<Signal<String>>,
        link: impl Fn(&T) -> (String, String) + Send + Sync + 'static,
    ) -> Self {
        let link = Arc::new(link);
        let (sort, filter) = (link.clone(), link.clone());
        Column::new(id, header, move |row: &T| {
            let (href, text) = link(row);
            view! { <a href=href class=LINK>{text}</a> }
        })
        .sort_by(move |row| SortKey::Text(sort(row).1))
        .filter_by(move |row| filter(row).1)
    }

    /// Sorts by `key` when its header is clicked.
    pub fn sort_by<K: Into<SortKey>>(
        mut self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> Self {
        self.sort_key = Some(Arc::new(move |row| key(row).into()));
        self
    }

    /// No sorting by this column.
    pub fn unsorted(mut self) -> Self {
        self.sort_key = None;
        self
    }

    /// The filter searches `text` of each row.
    pub fn filter_by(mut self, text: impl Fn(&T) -> String + Send + Sync + 'static) -> Self {
        self.filter = Some(Arc::new(text));
        self
    }

    /// Cells in a monospace font (names, versions, addresses).
    pub fn mono(mut self) -> Self {
        self.mono = true;
        self
    }

    /// Cells in a quieter colour (details, secondary text).
    pub fn muted(mut self) -> Self {
        self.muted = true;
        self
    }

    /// Cells centred (marks, short values).
    pub fn centered(mut self) -> Self {
        self.centered = true;
        self
    }

    /// The cell names its row: a `<th scope="row">`.
    pub fn row_header(mut self) -> Self {
        self.row_header = true;
        self
    }

    /// A `data-testid` on every cell of the column.
    pub fn testid(mut self, testid: &'static str) -> Self {
        self.testid = Some(testid);
        self
    }

    pub fn id(&self) -> &'static str {
        self.id
    }
}

/// Everything about a table but its rows: columns, test id, per-row attributes, and whether it
/// filters, pages or renders virtual rows.
pub struct TableSpec<T> {
    testid: &'static str,
    columns: Arc<Vec<Column<T>>>,
    row_attrs: Option<Attrs<T>>,
    filter_label: Option<Signal<String>>,
    page_size: Option<usize>,
    virtual_rows: bool,
    initial_sort: Option<Sort>,
    caption: Option<Signal<String>>,
}

impl<T> Clone for TableSpec<T> {
    fn clone(&self) -> Self {
        TableSpec {
            testid: self.testid,
            columns: self.columns.clone(),
            row_attrs: self.row_attrs.clone(),
            filter_label: self.filter_label,
            page_size: self.page_size,
            virtual_rows: self.virtual_rows,
            initial_sort: self.initial_sort,
            caption: self.caption,
        }
    }
}

impl<T: 'static> TableSpec<T> {
    /// A table with `data-testid=testid` on its `<table>`.
    pub fn new(testid: &'static str, columns: Vec<Column<T>>) -> Self {
        TableSpec {
            testid,
            columns: Arc::new(columns),
            row_attrs: None,
            filter_label: None,
            page_size: None,
            virtual_rows: false,
            initial_sort: None,
            caption: None,
        }
    }

    /// Sort, filter and page for tables of this spec that are built again as their rows change
    /// (pass it to each [`Table`]): they survive the rebuilds.
    pub fn new_state(&self) -> TableState {
        TableState::new(self.initial_sort)
    }

    /// Attributes of each row's `<tr>`, such as `("data-cluster", name)`, for tests and styles.
    pub fn row_attrs(
        mut self,
        attrs: impl Fn(&T) -> Vec<(&'static str, String)> + Send + Sync + 'static,
    ) -> Self {
        self.row_attrs = Some(Arc::new(attrs));
        self
    }

    /// A text filter above the table, labelled `label`, over the columns' `filter_by` texts.
    pub fn filter(mut self, label: impl Into<Signal<String>>) -> Self {
        self.filter_label = Some(label.into());
        self
    }

    /// Shows `size` rows a page, with Previous / Next.
    pub fn paged(mut self, size: usize) -> Self {
        self.page_size = Some(size.max(1));
        self
    }

    /// For long lists: a scrolling box that renders only the rows in view (plus a few), each
    /// of one fixed height. Before hydration the first window is rendered.
    pub fn virtual_rows(mut self) -> Self {
        self.virtual_rows = true;
        self
    }

    /// Sorted by `sort` until the user clicks a header.
    pub fn sorted(mut self, sort: Sort) -> Self {
        self.initial_sort = Some(sort);
        self
    }

    /// A caption for screen readers (the table's heading is usually visible nearby).
    pub fn caption(mut self, caption: impl Into<Signal<String>>) -> Self {
        self.caption = Some(caption.into());
        self
    }
}

/// What the user did to a table (sort, filter, page, scroll). [`DataTable`] keeps it across
/// live reloads, so a change on the cluster does not undo the user's sort or filter.
#[derive(Clone, Copy)]
pub struct TableState {
    pub sort: RwSignal<Option<Sort>>,
    pub filter: RwSignal<String>,
    pub page: RwSignal<usize>,
    pub scroll_top: RwSignal<f64>,
}

impl TableState {
    pub fn new(sort: Option<Sort>) -> Self {
        TableState {
            sort: RwSignal::new(sort),
            filter: RwSignal::new(String::new()),
            page: RwSignal::new(0),
            scroll_top: RwSignal::new(0.0),
        }
    }
}

/// The fixed height of a virtual row (`h-9`) and of the virtual box (`max-h-[32rem]`).
pub const VIRTUAL_ROW_PX: u32 = 36;
pub const VIRTUAL_VIEWPORT_PX: u32 = 512;
/// Rows rendered beyond the viewport on either side.
pub const VIRTUAL_OVERSCAN: usize = 8;

const TABLE: &str = "w-full border-collapse text-left text-sm";
const THEAD: &str =
    "border-b border-slate-200 text-slate-500 dark:border-slate-700 dark:text-slate-400";
const THEAD_STICKY: &str = "sticky top-0 z-10 bg-white dark:bg-slate-950";
const TH: &str = "py-2 pr-4 font-medium";
const TH_CENTER: &str = "px-1 py-2 text-center font-medium";
const SORT_BUTTON: &str = "inline-flex items-center gap-1 rounded font-medium hover:text-slate-900 dark:hover:text-slate-100 focus-ring";
const TR: &str = "border-b border-slate-100 align-top dark:border-slate-800";
const TR_VIRTUAL: &str = "h-9 border-b border-slate-100 dark:border-slate-800";
const TD: &str = "py-2 pr-4";
const LINK: &str = "text-sky-700 hover:underline dark:text-sky-400 focus-ring";
const TD_CENTER: &str = "px-1 py-2 text-center";
const TH_ROW: &str = "py-2 pr-4 font-normal";
const MONO: &str = "font-mono";
const MUTED: &str = "text-slate-600 dark:text-slate-300";
const NOWRAP: &str = "whitespace-nowrap";
const VIRTUAL_BOX: &str =
    "max-h-[32rem] overflow-y-auto rounded border border-slate-200 dark:border-slate-700";
const FILTER_LABEL: &str = "mb-2 flex items-center gap-2 text-sm";
const FILTER_INPUT: &str =
    "rounded border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-600 focus-ring";
const NO_MATCH: &str = "py-3 text-sm text-slate-600 dark:text-slate-300";
const PAGER: &str = "mt-2 flex items-center gap-3 text-sm text-slate-600 dark:text-slate-300";
const PAGER_BUTTON: &str = "rounded border border-slate-300 px-2 py-0.5 disabled:cursor-not-allowed disabled:opacity-50 dark:border-slate-600 focus-ring";

fn cell_class<T>(column: &Column<T>, virtual_rows: bool) -> String {
    let base = match (column.centered, column.row_header) {
        (true, _) => TD_CENTER,
        (false, true) => TH_ROW,
        (false, false) => TD,
    };
    let mut class = base.to_string();
    for (on, extra) in [
        (column.mono, MONO),
        (column.muted, MUTED),
        (virtual_rows, NOWRAP),
    ] {
        if on {
            class.push(' ');
            class.push_str(extra);
        }
    }
    class
}

fn row_attributes<T>(spec: &TableSpec<T>, row: &T) -> Vec<AnyAttribute> {
    spec.row_attrs
        .as_ref()
        .map(|attrs| {
            attrs(row)
                .into_iter()
                .map(|(name, value)| custom_attribute(name, value).into_any_attr())
                .collect()
        })
        .unwrap_or_default()
}

fn row_view<T: 'static>(spec: &TableSpec<T>, row: &T) -> impl IntoView + use<T> {
    let virtual_rows = spec.virtual_rows;
    let cells = spec
        .columns
        .iter()
        .map(|column| {
            let class = cell_class(column, virtual_rows);
            let content = (column.cell)(row);
            if column.row_header {
                view! { <th scope="row" class=class data-testid=column.testid>{content}</th> }
                    .into_any()
            } else {
                view! { <td class=class data-testid=column.testid>{content}</td> }.into_any()
            }
        })
        .collect_view();
    let attrs = row_attributes(spec, row);
    view! { <tr class=if virtual_rows { TR_VIRTUAL } else { TR } {..attrs}>{cells}</tr> }
}

/// A table of `rows` as `spec` describes it. `state` keeps sort, filter and page when the table
/// is drawn again (pass the same one across reloads); without it the table keeps its own.
#[component]
pub fn Table<T>(
    spec: TableSpec<T>,
    rows: Vec<T>,
    #[prop(optional)] state: Option<TableState>,
) -> impl IntoView
where
    T: Send + Sync + 'static,
{
    let i18n = use_i18n();
    let state = state.unwrap_or_else(|| TableState::new(spec.initial_sort));
    let rows = Arc::new(rows);
    let total_rows = rows.len();
    let columns = spec.columns.clone();
    let spec = Arc::new(spec);
    // Effects run only in the browser, after hydration: until then the server's first window
    // stands (no spacers, whose heights the CSP would not let the server write inline).
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let visible = {
        let (rows, columns) = (rows.clone(), columns.clone());
        Memo::new(move |_| visible_rows(&rows, &columns, &state.filter.get(), state.sort.get()))
    };
    let virtual_rows = spec.virtual_rows;
    let page_size = spec.page_size;
    let window = Memo::new(move |_| {
        let total = visible.with(Vec::len);
        if virtual_rows {
            if hydrated.get() {
                virtual_window(
                    total,
                    VIRTUAL_ROW_PX,
                    VIRTUAL_VIEWPORT_PX,
                    state.scroll_top.get(),
                    VIRTUAL_OVERSCAN,
                )
            } else {
                // The first window without spacers: their heights would be inline styles.
                VirtualWindow {
                    before_px: 0,
                    after_px: 0,
                    ..virtual_window(
                        total,
                        VIRTUAL_ROW_PX,
                        VIRTUAL_VIEWPORT_PX,
                        0.0,
                        VIRTUAL_OVERSCAN,
                    )
                }
            }
        } else if let Some(size) = page_size {
            let bounds = page_bounds(total, size, state.page.get());
            VirtualWindow {
                start: bounds.start,
                end: bounds.end,
                before_px: 0,
                after_px: 0,
            }
        } else {
            VirtualWindow {
                start: 0,
                end: total,
                before_px: 0,
                after_px: 0,
            }
        }
    });
    let colspan = columns.len().max(1);

    let head = columns
        .iter()
        .map(|column| {
            let id = column.id;
            let header = column.header;
            let class = if column.centered { TH_CENTER } else { TH };
            if column.sort_key.is_some() {
                view! {
                    <th scope="col" class=class aria-sort=move || aria_sort(state.sort.get(), id)>
                        <button
                            type="button"
                            class=SORT_BUTTON
                            data-sort=id
                            on:click=move |_| {
                                state.sort.update(|sort| *sort = Some(Sort::toggled(*sort, id)));
                                state.page.set(0);
                            }
                        >
                            {move || header.get()}
                            <span aria-hidden="true" class="text-xs">
                                {move || match state.sort.get() {
                                    Some(Sort { column, direction: SortDirection::Ascending }) if column == id => "▲",
                                    Some(Sort { column, direction: SortDirection::Descending }) if column == id => "▼",
                                    _ => "↕",
                                }}
                            </span>
                        </button>
                    </th>
                }
                .into_any()
            } else {
                view! { <th scope="col" class=class>{move || header.get()}</th> }.into_any()
            }
        })
        .collect_view();

    let body = {
        let (rows, spec) = (rows.clone(), spec.clone());
        move || {
            let VirtualWindow {
                start,
                end,
                before_px,
                after_px,
            } = window.get();
            let filter = state.filter.get();
            visible.with(|indices| {
                if indices.is_empty() && !filter.trim().is_empty() {
                    let total = rows.len();
                    return view! {
                        <tr>
                            <td colspan=colspan class=NO_MATCH role="status">
                                {t_string!(i18n, ui.no_match, filter = filter.clone(), total = total).to_string()}
                            </td>
                        </tr>
                    }
                    .into_any();
                }
                let range: Range<usize> = start.min(indices.len())..end.min(indices.len());
                let shown = indices[range]
                    .iter()
                    .map(|&i| row_view(&spec, &rows[i]))
                    .collect_view();
                let spacer = |px: u32| {
                    (px > 0).then(|| {
                        view! {
                            <tr aria-hidden="true" data-spacer="">
                                <td colspan=colspan style:height=format!("{px}px")></td>
                            </tr>
                        }
                    })
                };
                view! {
                    {spacer(before_px)}
                    {shown}
                    {spacer(after_px)}
                }
                .into_any()
            })
        }
    };

    let filter_input = spec.filter_label.map(|label| {
        let (id, label_for) = (
            format!("{}-filter", spec.testid),
            format!("{}-filter", spec.testid),
        );
        view! {
            <label class=FILTER_LABEL for=label_for>
                <span>{move || label.get()}</span>
                <input
                    id=id
                    type="search"
                    autocomplete="off"
                    class=FILTER_INPUT
                    placeholder=move || t_string!(i18n, ui.filter_placeholder).to_string()
                    prop:value=move || state.filter.get()
                    on:input=move |ev| {
                        state.filter.set(event_target_value(&ev));
                        state.page.set(0);
                    }
                />
            </label>
        }
    });

    let pager = page_size.filter(|_| !virtual_rows).map(|size| {
        move || {
            let total = visible.with(Vec::len);
            (total > size).then(|| {
                let bounds = page_bounds(total, size, state.page.get());
                view! {
                    <nav class=PAGER aria-label=move || t_string!(i18n, ui.pagination).to_string()>
                        <button
                            type="button"
                            class=PAGER_BUTTON
                            disabled=bounds.page == 0
                            on:click=move |_| state.page.update(|p| *p = bounds.page.saturating_sub(1))
                        >
                            {t_string!(i18n, ui.previous).to_string()}
                        </button>
                        <span role="status">
                            {t_string!(i18n, ui.rows, from = bounds.start + 1, to = bounds.end, total = total).to_string()}
                        </span>
                        <button
                            type="button"
                            class=PAGER_BUTTON
                            disabled=bounds.page + 1 >= bounds.pages
                            on:click=move |_| state.page.set(bounds.page + 1)
                        >
                            {t_string!(i18n, ui.next).to_string()}
                        </button>
                    </nav>
                }
            })
        }
    });

    let caption = spec
        .caption
        .map(|caption| view! { <caption class="sr-only">{move || caption.get()}</caption> });
    let table = view! {
        <table
            class=TABLE
            data-testid=spec.testid
            aria-rowcount=virtual_rows.then(|| (total_rows + 1).to_string())
        >
            {caption}
            <thead class=if virtual_rows { format!("{THEAD} {THEAD_STICKY}") } else { THEAD.to_string() }>
                <tr>{head}</tr>
            </thead>
            <tbody>{body}</tbody>
        </table>
    };
    let table = if virtual_rows {
        view! {
            <div
                class=VIRTUAL_BOX
                tabindex="0"
                on:scroll=move |ev| {
                    let target: leptos::web_sys::Element = event_target(&ev);
                    state.scroll_top.set(f64::from(target.scroll_top()));
                }
            >
                {table}
            </div>
        }
        .into_any()
    } else {
        table.into_any()
    };
    view! {
        {filter_input}
        {table}
        {pager}
    }
}

/// The call to action of an empty list: a link such as "Import a cluster".
#[derive(Clone)]
pub struct EmptyAction {
    pub label: Signal<String>,
    pub href: String,
}

/// A table of what `rows` loads: a loading line until the first answer (older rows stay while
/// it reloads), the error in the user's language, the empty state with what to do, or the
/// table. Sort, filter and page survive reloads.
#[component]
pub fn DataTable<T>(
    spec: TableSpec<T>,
    rows: Resource<Result<Vec<T>, ConsoleError>>,
    /// The empty state's heading ("No clusters registered").
    #[prop(into)]
    empty_title: Signal<String>,
    /// What to do about it ("Import a cluster to manage it here.").
    #[prop(into)]
    empty_body: Signal<String>,
    #[prop(optional)] empty_action: Option<EmptyAction>,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    let state = spec.new_state();
    view! {
        <Transition fallback=move || view! { <Loading /> }>
            {move || {
                let spec = spec.clone();
                let empty_action = empty_action.clone();
                Suspend::new(async move {
                    match rows.await {
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        Ok(list) if list.is_empty() => {
                            let action = empty_action.map(|action| {
                                view! { <super::ButtonLink href=action.href variant=super::Variant::Primary>{move || action.label.get()}</super::ButtonLink> }
                            });
                            view! {
                                <EmptyState title=empty_title body=empty_body>
                                    {action}
                                </EmptyState>
                            }
                            .into_any()
                        }
                        Ok(list) => view! { <Table spec rows=list state /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Node {
        name: &'static str,
        pods: Option<i64>,
        zone: &'static str,
    }

    fn nodes() -> Vec<Node> {
        vec![
            Node {
                name: "node-10",
                pods: Some(3),
                zone: "east-a",
            },
            Node {
                name: "node-2",
                pods: None,
                zone: "west-b",
            },
            Node {
                name: "Node-1",
                pods: Some(7),
                zone: "east-b",
            },
            Node {
                name: "node-3",
                pods: Some(3),
                zone: "west-a",
            },
        ]
    }

    fn columns() -> Vec<Column<Node>> {
        let owner = Owner::new();
        owner.with(|| {
            vec![
                Column::text("name", "Name".to_string(), |n: &Node| n.name.to_string()),
                Column::new("pods", "Pods".to_string(), |n: &Node| {
                    n.pods.unwrap_or(0).to_string()
                })
                .sort_by(|n: &Node| n.pods),
                Column::new("zone", "Zone".to_string(), |n: &Node| n.zone)
                    .filter_by(|n: &Node| n.zone.to_string()),
            ]
        })
    }

    fn names(rows: &[Node], indices: &[usize]) -> Vec<&'static str> {
        indices.iter().map(|&i| rows[i].name).collect()
    }

    #[test]
    fn text_sorts_naturally_and_without_regard_to_case() {
        let rows = nodes();
        let up = visible_rows(&rows, &columns(), "", Some(Sort::ascending("name")));
        assert_eq!(names(&rows, &up), ["Node-1", "node-2", "node-3", "node-10"]);
        let down = visible_rows(&rows, &columns(), "", Some(Sort::descending("name")));
        assert_eq!(
            names(&rows, &down),
            ["node-10", "node-3", "node-2", "Node-1"]
        );
    }

    #[test]
    fn numbers_sort_by_value_missing_last_either_way_and_ties_keep_their_order() {
        let rows = nodes();
        let up = visible_rows(&rows, &columns(), "", Some(Sort::ascending("pods")));
        assert_eq!(names(&rows, &up), ["node-10", "node-3", "Node-1", "node-2"]);
        let down = visible_rows(&rows, &columns(), "", Some(Sort::descending("pods")));
        assert_eq!(
            names(&rows, &down),
            ["Node-1", "node-10", "node-3", "node-2"]
        );
    }

    #[test]
    fn no_sort_or_an_unknown_column_keeps_the_rows_as_they_came() {
        let rows = nodes();
        let all = visible_rows(&rows, &columns(), "", None);
        assert_eq!(all, [0, 1, 2, 3]);
        let unknown = visible_rows(&rows, &columns(), "", Some(Sort::ascending("nope")));
        assert_eq!(unknown, [0, 1, 2, 3]);
    }

    #[test]
    fn the_filter_searches_filterable_columns_word_by_word_ignoring_case() {
        let rows = nodes();
        assert_eq!(
            names(&rows, &visible_rows(&rows, &columns(), "EAST", None)),
            ["node-10", "Node-1"]
        );
        assert_eq!(
            names(&rows, &visible_rows(&rows, &columns(), "node west-a", None)),
            ["node-3"]
        );
        // "pods" is not filterable: its numbers are not searched.
        assert!(visible_rows(&rows, &columns(), "7", None).is_empty());
        assert_eq!(visible_rows(&rows, &columns(), "   ", None).len(), 4);
        let sorted = visible_rows(&rows, &columns(), "west", Some(Sort::descending("name")));
        assert_eq!(names(&rows, &sorted), ["node-3", "node-2"]);
    }

    #[test]
    fn a_header_click_sorts_ascending_then_turns_around() {
        let first = Sort::toggled(None, "name");
        assert_eq!(first, Sort::ascending("name"));
        assert_eq!(Sort::toggled(Some(first), "name"), Sort::descending("name"));
        assert_eq!(
            Sort::toggled(Some(Sort::descending("name")), "name"),
            Sort::ascending("name")
        );
        assert_eq!(
            Sort::toggled(Some(Sort::descending("name")), "pods"),
            Sort::ascending("pods")
        );
        assert_eq!(aria_sort(Some(first), "name"), "ascending");
        assert_eq!(
            aria_sort(Some(Sort::descending("name")), "name"),
            "descending"
        );
        assert_eq!(aria_sort(Some(first), "pods"), "none");
        assert_eq!(aria_sort(None, "pods"), "none");
    }

    #[test]
    fn natural_order_compares_digit_runs_by_value() {
        assert_eq!(natural_cmp("a2", "a10"), Ordering::Less);
        assert_eq!(natural_cmp("a010", "a9"), Ordering::Greater);
        assert_eq!(natural_cmp("v1.9.0", "v1.10.0"), Ordering::Less);
        assert_eq!(natural_cmp("B", "a"), Ordering::Greater);
        assert_eq!(natural_cmp("abc", "ab"), Ordering::Greater);
        assert_eq!(natural_cmp("", ""), Ordering::Equal);
        // Equal ignoring case and zeros, yet a total order.
        assert_ne!(natural_cmp("a01", "a1"), Ordering::Equal);
        assert_ne!(natural_cmp("A", "a"), Ordering::Equal);
        // Digit runs longer than any integer.
        assert_eq!(
            natural_cmp("x99999999999999999999999", "x100000000000000000000000"),
            Ordering::Less
        );
    }

    #[test]
    fn pages_cover_every_row_once_and_clamp_a_page_past_the_end() {
        assert_eq!(
            page_bounds(0, 10, 0),
            PageBounds {
                page: 0,
                pages: 1,
                start: 0,
                end: 0
            }
        );
        assert_eq!(
            page_bounds(25, 10, 0),
            PageBounds {
                page: 0,
                pages: 3,
                start: 0,
                end: 10
            }
        );
        assert_eq!(
            page_bounds(25, 10, 2),
            PageBounds {
                page: 2,
                pages: 3,
                start: 20,
                end: 25
            }
        );
        assert_eq!(
            page_bounds(25, 10, 9),
            PageBounds {
                page: 2,
                pages: 3,
                start: 20,
                end: 25
            }
        );
        assert_eq!(page_bounds(20, 10, 5).start, 10);
        assert_eq!(
            page_bounds(3, 0, 1),
            PageBounds {
                page: 1,
                pages: 3,
                start: 1,
                end: 2
            }
        );
    }

    #[test]
    fn the_virtual_window_renders_the_rows_in_view_plus_overscan_and_spacers_for_the_rest() {
        // 1000 rows of 36 px in 512 px: 15 rows in view (one partly) plus one.
        let top = virtual_window(1000, 36, 512, 0.0, 8);
        assert_eq!(
            top,
            VirtualWindow {
                start: 0,
                end: 24,
                before_px: 0,
                after_px: 976 * 36
            }
        );
        let middle = virtual_window(1000, 36, 512, 36.0 * 500.0 + 10.0, 8);
        assert_eq!((middle.start, middle.end), (492, 524));
        assert_eq!(middle.before_px, 492 * 36);
        assert_eq!(middle.after_px, (1000 - 524) * 36);
        let bottom = virtual_window(1000, 36, 512, 1e9, 8);
        assert_eq!((bottom.start, bottom.end, bottom.after_px), (992, 1000, 0));
        // Short lists, odd scroll values.
        assert_eq!(
            virtual_window(5, 36, 512, 0.0, 8),
            VirtualWindow {
                start: 0,
                end: 5,
                before_px: 0,
                after_px: 0
            }
        );
        assert_eq!(
            virtual_window(0, 36, 512, 100.0, 8),
            VirtualWindow {
                start: 0,
                end: 0,
                before_px: 0,
                after_px: 0
            }
        );
        assert_eq!(virtual_window(50, 36, 512, f64::NAN, 2).start, 0);
        assert_eq!(virtual_window(50, 36, 512, -40.0, 2).start, 0);
    }

    proptest::proptest! {
        #[test]
        fn the_window_and_spacers_always_add_up_to_the_whole_list(
            total in 0usize..5000, scroll in 0f64..400_000.0, overscan in 0usize..20
        ) {
            let w = virtual_window(total, 36, 512, scroll, overscan);
            proptest::prop_assert!(w.start <= w.end && w.end <= total);
            proptest::prop_assert_eq!(
                u64::from(w.before_px) + u64::from(w.after_px) + (w.end - w.start) as u64 * 36,
                total as u64 * 36
            );
            // The rows in view are rendered.
            let first = ((scroll as u32) / 36) as usize;
            if first < total {
                proptest::prop_assert!(w.start <= first && first < w.end);
            }
        }

        #[test]
        fn paging_shows_every_row_exactly_once(total in 0usize..500, size in 1usize..60) {
            let pages = page_bounds(total, size, 0).pages;
            let mut seen = 0;
            for page in 0..pages {
                let b = page_bounds(total, size, page);
                proptest::prop_assert_eq!(b.start, seen);
                proptest::prop_assert!(b.end - b.start <= size);
                seen = b.end;
            }
            proptest::prop_assert_eq!(seen, total);
        }

        #[test]
        fn natural_order_is_a_total_order(a in "[a-zA-Z0-9-]{0,8}", b in "[a-zA-Z0-9-]{0,8}", c in "[a-zA-Z0-9-]{0,8}") {
            proptest::prop_assert_eq!(natural_cmp(&a, &b), natural_cmp(&b, &a).reverse());
            proptest::prop_assert_eq!(natural_cmp(&a, &b) == Ordering::Equal, a == b);
            if natural_cmp(&a, &b) != Ordering::Greater && natural_cmp(&b, &c) != Ordering::Greater {
                proptest::prop_assert_ne!(natural_cmp(&a, &c), Ordering::Greater);
            }
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod render_tests {
    use super::*;
    use crate::i18n::I18nContextProvider;

    #[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Row {
        name: String,
        pods: i64,
    }

    fn render(rows: Vec<Row>, spec: impl Fn() -> TableSpec<Row> + Send + Sync + 'static) -> String {
        let _ = any_spawner::Executor::init_tokio();
        let owner = Owner::new();
        owner.with(|| {
            view! {
                <I18nContextProvider>
                    {
                        let spec = spec();
                        let rows = rows.clone();
                        view! { <Table spec rows /> }
                    }
                </I18nContextProvider>
            }
            .to_html()
        })
    }

    fn spec() -> TableSpec<Row> {
        TableSpec::new(
            "nodes",
            vec![
                Column::text("name", "Name".to_string(), |r: &Row| r.name.clone()).mono(),
                Column::new("pods", "Pods".to_string(), |r: &Row| r.pods.to_string())
                    .testid("pods"),
            ],
        )
        .row_attrs(|r| vec![("data-node", r.name.clone())])
    }

    fn rows(n: usize) -> Vec<Row> {
        (0..n)
            .map(|i| Row {
                name: format!("node-{i}"),
                pods: i as i64,
            })
            .collect()
    }

    #[tokio::test]
    async fn the_server_renders_rows_with_their_attributes_and_sortable_headers() {
        let html = render(rows(3), || spec().sorted(Sort::descending("name")));
        assert!(html.contains(r#"data-testid="nodes""#), "{html}");
        assert!(html.contains(r#"data-node="node-2""#), "{html}");
        assert!(html.contains(r#"data-testid="pods""#), "{html}");
        assert!(html.contains(r#"aria-sort="descending""#), "{html}");
        // Descending by name: node-2 comes first.
        let (two, zero) = (
            html.find("data-node=\"node-2\""),
            html.find("data-node=\"node-0\""),
        );
        assert!(two < zero, "{html}");
        // Only sortable columns carry aria-sort.
        assert_eq!(html.matches("aria-sort").count(), 1, "{html}");
    }

    #[tokio::test]
    async fn the_server_renders_the_first_page_only_and_the_pager() {
        let html = render(rows(25), || spec().paged(10));
        assert_eq!(html.matches("data-node=").count(), 10, "{html}");
        assert!(html.contains("1–10 of 25"), "{html}");
    }

    #[tokio::test]
    async fn the_server_renders_the_first_virtual_window_without_inline_styles() {
        let html = render(rows(1000), || spec().virtual_rows());
        let shown = html.matches("data-node=").count();
        assert!(shown > 10 && shown < 40, "{shown} rows rendered");
        // The CSP forbids inline styles: spacers only appear after hydration.
        assert!(!html.contains("style="), "{html}");
        assert!(html.contains(r#"aria-rowcount="1001""#), "{html}");
    }
}
