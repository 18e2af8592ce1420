/** A live line chart of training curves (uPlot: small, fast, and runs under MV3's CSP, unlike tfjs-vis). */
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatAccuracy } from '../shared/format';

export interface Series {
  label: string;
  /** A CSS custom property of popup.css (light and dark values), e.g. '--series-train'. */
  color: `--${string}`;
  values: (number | null)[];
}

/** The last value a series has: what the legend shows while no epoch is hovered, as TensorBoard does. */
function latest(values: ArrayLike<number | null | undefined> | undefined): number | null {
  for (let i = (values?.length ?? 0) - 1; i >= 0; i--) if (values![i] != null) return values![i]!;
  return null;
}

/** A legend value: the hovered epoch's, or else the latest. */
function legendValue(format: (value: number) => string) {
  return (plot: uPlot, value: number | null, seriesIndex: number, index: number | null) => {
    const shown = index === null ? latest(plot.data[seriesIndex]) : value;
    return shown === null ? '–' : format(shown);
  };
}

/** Whole epochs only: an epoch axis ticked at 2.5 reads as a bug. */
const EPOCH_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500];

const DARK = '(prefers-color-scheme: dark)';

/** Whether the system is in dark mode now; follows changes while the popup is open. */
function useDarkMode(): boolean {
  const [dark, setDark] = useState(() => matchMedia(DARK).matches);
  useEffect(() => {
    const query = matchMedia(DARK);
    const follow = () => setDark(query.matches);
    query.addEventListener('change', follow);
    return () => query.removeEventListener('change', follow);
  }, []);
  return dark;
}

export function LineChart(props: { title: string; epochs: number[]; series: Series[]; width?: number; testId: string; percent?: boolean }) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = [props.epochs, ...props.series.map((s) => s.values)] as uPlot.AlignedData;
  const dark = useDarkMode();

  useEffect(() => {
    if (!container.current) return;
    // uPlot draws on a canvas, which cannot read CSS: the theme's colours are read here, and the chart is drawn again when the theme changes.
    const style = getComputedStyle(container.current);
    const colour = (name: string) => style.getPropertyValue(name).trim();
    const axis = { stroke: style.color, grid: { stroke: colour('--line') }, ticks: { stroke: colour('--line') } };
    plot.current = new uPlot(
      {
        title: props.title,
        width: props.width ?? 340,
        height: 170,
        scales: { x: { time: false } },
        axes: [{ ...axis, label: 'epoch', incrs: EPOCH_STEPS }, props.percent ? { ...axis, values: (_plot, ticks) => ticks.map(formatAccuracy), size: 56 } : axis],
        series: [
          { label: 'epoch', value: legendValue(String) },
          ...props.series.map((s) => ({
            label: s.label,
            stroke: colour(s.color),
            width: 2,
            spanGaps: true,
            value: legendValue(props.percent ? formatAccuracy : (value) => value.toFixed(3)),
          })),
        ],
      },
      data,
      container.current,
    );
    return () => plot.current?.destroy();
    // Series are fixed per chart; only the data (below) and the theme change.
  }, [dark]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return <div class="chart" ref={container} data-testid={props.testId} data-points={props.epochs.length} />;
}
