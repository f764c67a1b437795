//! `completions SHELL` and `man`: generated from the clap definition, printed on
//! stdout (the release workflow ships them in its archives).

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::Exit;

pub(crate) fn completions(shell: clap_complete::Shell) -> anyhow::Result<Exit> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "vault-fetch-relay", &mut out);
    // `... | head` is a reader's choice, as for env and check.
    crate::console::out_unless_closed(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Success)
}

/// One page, as ripgrep ships: clap_mangen's plain render lists the subcommands as
/// vault-fetch-relay-exec(1) and so on, pages nobody ships; here each subcommand's
/// synopsis, options and notes follow the top-level ones instead.
pub(crate) fn man() -> anyhow::Result<Exit> {
    let mut cmd = Cli::command();
    cmd.build();
    let top = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    top.render_title(&mut out)?;
    top.render_name_section(&mut out)?;
    top.render_synopsis_section(&mut out)?;
    top.render_description_section(&mut out)?;
    top.render_options_section(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("vault-fetch-relay {}", sub.get_name());
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        let page = clap_mangen::Man::new(sub.clone());
        let mut part = Vec::new();
        page.render_description_section(&mut part)?;
        page.render_synopsis_section(&mut part)?;
        page.render_options_section(&mut part)?;
        // Notes of its own; the shared ones (key precedence, environment) are the
        // top-level EXTRA section, printed once.
        let notes = |c: &clap::Command| {
            c.get_after_long_help()
                .or_else(|| c.get_after_help())
                .map(|t| t.to_string())
        };
        if notes(sub).is_some() && notes(sub) != notes(&cmd) {
            page.render_extra_section(&mut part)?;
        }
        // Its sections become subsections of the subcommand's own.
        let part = String::from_utf8_lossy(&part).replace(".SH ", ".SS ");
        out.extend_from_slice(part.as_bytes());
    }
    if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
        top.render_extra_section(&mut out)?;
    }
    top.render_version_section(&mut out)?;
    crate::console::out_unless_closed(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Success)
}
