//! insta snapshots of every figure's `--quick` table, rounded to 6 significant digits.
//! A changed number fails the test (CI sets CI=true: nothing is written there); accept an
//! intended change with `INSTA_UPDATE=always cargo test --release --test all snapshots`.

use xtask::Mode;

fn snapshot(id: &str) {
    let root = xtask::workspace_root();
    let (_, out, _) = xtask::compute(&root, id, Mode::Quick, 1, false, false)
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    let csv = xtask::rounded_csv(&out.table, 6).unwrap();
    insta::assert_snapshot!(format!("{id}_quick"), csv);
}

macro_rules! snap {
    ($($name:ident),*) => {$(
        #[test]
        fn $name() {
            snapshot(stringify!($name));
        }
    )*};
}

snap!(fig1, fig2, fig3, fig4, fig5, fig6, fig7, fig8);
