/** A live line chart of training curves (uPlot: small, fast, and runs under MV3's CSP, unlike tfjs-vis). */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatAccuracy } from '../shared/format';

export interface Series {
  label: string;
  color: string;
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

export function LineChart(props: { title: string; epochs: number[]; series: Series[]; width?: number; testId: string; percent?: boolean }) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = [props.epochs, ...props.series.map((s) => s.values)] as uPlot.AlignedData;

  useEffect(() => {
    if (!container.current) return;
    plot.current = new uPlot(
      {
        title: props.title,
        width: props.width ?? 340,
        height: 170,
        scales: { x: { time: false } },
        axes: [{ label: 'epoch', incrs: EPOCH_STEPS }, props.percent ? { values: (_plot, ticks) => ticks.map(formatAccuracy), size: 56 } : {}],
        series: [
          { label: 'epoch', value: legendValue(String) },
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.color,
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
    // Series are fixed per chart; only the data changes.
  }, []);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return <div class="chart" ref={container} data-testid={props.testId} data-points={props.epochs.length} />;
}
