// Runs the berth CLI from source (tests under tsx, before a build): argv after this file's path.
import { main } from '../../src/cli/main.js';

void main(process.argv.slice(2));
