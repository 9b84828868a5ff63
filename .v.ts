import { runValidate } from "./src/cli/validate.js";
process.exitCode = await runValidate(process.argv.slice(2), (l) => console.log(l));
