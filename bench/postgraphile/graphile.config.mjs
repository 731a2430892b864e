// PostGraphile 5 as the bench runs it (bench/specs.py adds the connection, schema, host and
// port on the command line): the stock "amber" preset, no GraphiQL, no watch mode, no explain.
//
// One change: PgIndexBehaviorsPlugin is off. It hides a backward relation (users -> persons,
// users -> accounts) unless an index starts with all of the foreign key's columns, here
// (platform_id, user_id); the gateway's tables index those rows by user_id alone. With the
// plugin off, PostGraphile serves the relations over the very same tables and indexes.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  grafserv: { graphiql: false, watch: false },
  grafast: { explain: false },
};

export default preset;
