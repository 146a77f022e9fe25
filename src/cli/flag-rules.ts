import { Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { usageError } from '../errors.js';
import { collect } from './flag-values.js';

/**
 * Flag rules checked after commander has parsed a command line, i.e. after it has reported unknown options.
 * commander's own requiredOption check runs before its unknown-option check, so a misspelt `--pth` would be answered
 * with "required option '--path' not specified" instead of being named; required options are therefore checked here.
 */
const REQUIRED = new WeakSet<object>();
/** Options that only act together with another one (by attribute name): given alone they would be ignored. */
const ONLY_WITH = new WeakMap<object, string>();

/**
 * An option the command cannot run without. Its value is typed as always present: checkFlagRules (a preAction
 * hook) stops the run before the handler when it is missing.
 */
export function required<Usage extends string, PresetT, DefaultT, CoerceT, ChoicesT>(
  option: Option<Usage, PresetT, DefaultT, CoerceT, boolean, ChoicesT>,
): Option<Usage, PresetT, DefaultT, CoerceT, true, ChoicesT> {
  REQUIRED.add(option);
  return option as Option<Usage, PresetT, DefaultT, CoerceT, true, ChoicesT>;
}

/** Mark `option` as acting only with the option whose attribute is `partner` (e.g. `--key` of `push` with `--sign`). */
export function onlyWith<O extends Option<string, unknown, unknown, unknown, boolean, unknown>>(option: O, partner: string): O {
  ONLY_WITH.set(option, partner);
  return option;
}

/**
 * A second, hidden short name for an option, for Flux's spelling (`flux build artifact -p` is our `-f, --path`):
 * the value lands in the option's own attribute, so the command sees no difference.
 */
export function addShortAlias<C extends CommandUnknownOpts>(cmd: C, short: string, long: string): C {
  const target = cmd.options.find((o) => o.long === long);
  if (target === undefined) throw new Error(`no option ${long} to alias`);
  const alias = new Option(`${short} ${target.required ? '<value>' : '[value]'}`).hideHelp();
  cmd.addOption(alias);
  cmd.on(`option:${alias.name()}`, (value: string) => cmd.setOptionValueWithSource(target.attributeName(), value, 'cli'));
  return cmd;
}

export function checkFlagRules(cmd: CommandUnknownOpts): void {
  for (const option of cmd.options) {
    const key = option.attributeName();
    if (REQUIRED.has(option) && cmd.getOptionValue(key) === undefined) {
      cmd.error(`error: required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue', exitCode: 1 });
    }
    const partner = ONLY_WITH.get(option);
    if (partner !== undefined && cmd.getOptionValueSource(key) === 'cli' && !cmd.getOptionValue(partner)) {
      const partnerFlag = cmd.options.find((o) => o.attributeName() === partner)?.long ?? `--${partner}`;
      throw usageError('FLAG_INVALID', `${option.long} acts only with ${partnerFlag}`, `add ${partnerFlag}, or leave out ${option.long}`);
    }
  }
}

/**
 * A flag that takes one value, given twice, is refused instead of silently keeping the last (`push -f a -f b` once
 * dropped `a`). Repeatable flags (parsed by `collect`) are left alone. Called once per command of a freshly built
 * program, so the count is per run.
 */
export function refuseRepeatedFlags(cmd: CommandUnknownOpts): void {
  for (const option of cmd.options) {
    if (!(option.required || option.optional) || option.variadic || option.parseArg === collect) continue;
    const parse = option.parseArg;
    let seen = false;
    option.parseArg = (<T>(value: string, previous: T): T => {
      if (seen) throw usageError('FLAG_INVALID', `${option.long ?? option.flags} was given more than once`, 'give it once');
      seen = true;
      return (parse === undefined ? value : parse(value, previous)) as T;
    });
  }
}
