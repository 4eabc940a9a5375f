//! Every committed figure renders from its committed table and summary (`data/<fig>.csv`,
//! `.toml`, default and quick runs): the plot is rebuilt without recomputing, and a panel
//! without series, a series without points or one without a finite point fails the test, so
//! a broken plot cannot land silently. The results page `data/README.md` must be current.

use xtask::Mode;

#[test]
fn committed_figures_render_from_their_csv() {
    let root = xtask::workspace_root();
    let mut rendered = 0;
    for mode in [Mode::Default, Mode::Quick] {
        for fig in xtask::figure::all() {
            let id = fig.id();
            let (csv, summary) = xtask::committed(&root, id, mode)
                .unwrap_or_else(|e| panic!("{id} ({}): {e}", mode.name()));
            let ctx = xtask::context(&root, id, mode, 1, false, false).unwrap();
            let plot = fig
                .plot(&ctx, &csv, &summary)
                .unwrap_or_else(|e| panic!("{id} ({}): {e}", mode.name()));
            let empty = plot.empty_series();
            assert!(
                empty.is_empty(),
                "{id} ({}): series without a finite point: {empty:?}",
                mode.name()
            );
            let svg = xtask::plot::svg(&plot).unwrap();
            assert!(svg.contains("<text"), "{id}: no text in the SVG");
            rendered += 1;
        }
    }
    assert_eq!(rendered, 2 * xtask::figure::all().len());
}

#[test]
fn the_png_has_the_svg_size_and_ink() {
    let root = xtask::workspace_root();
    let fig = xtask::find("fig3").unwrap();
    let (csv, summary) = xtask::committed(&root, "fig3", Mode::Quick).unwrap();
    let ctx = xtask::context(&root, "fig3", Mode::Quick, 1, false, false).unwrap();
    let (svg, png) = xtask::picture(fig, &ctx, &csv, &summary).unwrap();
    assert!(svg.starts_with("<svg") && png.starts_with(b"\x89PNG"));
    // IHDR: width and height, big-endian, at bytes 16..24
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(width as f64, xtask::plot::WIDTH);
}

#[test]
fn the_results_page_is_current() {
    let root = xtask::workspace_root();
    xtask::report::report(&root, true).unwrap_or_else(|e| panic!("{e}"));
}
