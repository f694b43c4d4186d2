//! User preferences kept in cookies so the server renders the same page the browser shows:
//! the colour theme and the view used last.

use leptos::prelude::*;
use leptos_use::{SameSite, UseCookieOptions, use_cookie_with_options};
use std::{fmt, str::FromStr};

use super::view::ConsoleView;
use codee::string::FromToStringCodec;

/// One year, in the milliseconds leptos-use expects.
const REMEMBER_MS: i64 = 365 * 24 * 60 * 60 * 1000;

/// Colour theme; `System` follows the operating system through a CSS media query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const COOKIE: &'static str = "ngc_theme";

    /// The theme a toggle switches to next.
    pub fn next(self) -> Self {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }
}

impl fmt::Display for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        })
    }
}

impl FromStr for Theme {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "system" => Ok(Theme::System),
            "light" => Ok(Theme::Light),
            "dark" => Ok(Theme::Dark),
            other => Err(format!("unknown theme {other:?}")),
        }
    }
}

fn remembered<T: Clone + Default, E, D>() -> UseCookieOptions<T, E, D> {
    UseCookieOptions::<T, E, D>::default()
        .max_age(REMEMBER_MS)
        .path("/")
        .same_site(SameSite::Lax)
        .default_value(Some(T::default()))
}

/// The theme cookie, readable during server rendering and writable in the browser.
pub fn use_theme() -> (Signal<Theme>, WriteSignal<Option<Theme>>) {
    let (theme, set_theme) =
        use_cookie_with_options::<Theme, FromToStringCodec>(Theme::COOKIE, remembered());
    (
        Signal::derive(move || theme.get().unwrap_or_default()),
        set_theme,
    )
}

/// The cookie holding the view used last.
pub fn use_last_view() -> (Signal<ConsoleView>, WriteSignal<Option<ConsoleView>>) {
    let (view, set_view) = use_cookie_with_options::<ConsoleView, FromToStringCodec>(
        ConsoleView::COOKIE,
        remembered(),
    );
    (
        Signal::derive(move || view.get().unwrap_or_default()),
        set_view,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_toggle_cycles_through_all_three() {
        let mut seen = vec![Theme::System];
        let mut theme = Theme::System.next();
        while theme != Theme::System {
            seen.push(theme);
            theme = theme.next();
        }
        assert_eq!(seen, vec![Theme::System, Theme::Light, Theme::Dark]);
    }

    #[test]
    fn theme_survives_its_cookie_encoding() {
        for theme in [Theme::System, Theme::Light, Theme::Dark] {
            assert_eq!(theme.to_string().parse::<Theme>(), Ok(theme));
        }
        assert!("sepia".parse::<Theme>().is_err());
    }
}
