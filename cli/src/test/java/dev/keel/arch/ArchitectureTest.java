package dev.keel.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Layering as a check (STYLE.md point 7), beside the Maven graph that already refuses an upward
 * module dependency: {@code command} → {@code node} → {@code http} → {@code *-actors} → {@code
 * persistence}, one way; the workflow SDK and the client stand alone; routes reach entities only
 * through façades; and no two packages depend on each other, in any module (a cycle inside a module
 * is invisible to Maven).
 */
@AnalyzeClasses(
    packages = "dev.keel",
    importOptions = {
      ImportOption.DoNotIncludeTests.class,
      ArchitectureTest.DoNotIncludeTestJars.class
    })
class ArchitectureTest {

  /**
   * A reactor build outside {@code -am} puts other modules' test jars on the path: not production
   * code either.
   */
  static final class DoNotIncludeTestJars implements ImportOption {
    @Override
    public boolean includes(Location location) {
      return !location.contains("-tests.jar");
    }
  }

  @ArchTest
  static final ArchRule persistenceKnowsNoModuleAboveIt =
      noClasses()
          .that()
          .resideInAPackage("dev.keel.persistence..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "dev.keel.workflow..",
              "dev.keel.registry..",
              "dev.keel.tenant..",
              "dev.keel.http..",
              "dev.keel.node..");

  @ArchTest
  static final ArchRule workflowKnowsNothingOfTheNode =
      noClasses()
          .that()
          .resideInAPackage("dev.keel.workflow..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("dev.keel.http..", "dev.keel.node..");

  @ArchTest
  static final ArchRule sdkDependsOnNoOtherKeelCode =
      noClasses()
          .that()
          .resideInAPackage("dev.keel.workflow.sdk..")
          .should()
          .dependOnClassesThat(
              com.tngtech.archunit.base.DescribedPredicate.describe(
                  "reside in dev.keel.. outside dev.keel.workflow.sdk..",
                  (com.tngtech.archunit.core.domain.JavaClass c) ->
                      c.getPackageName().startsWith("dev.keel.")
                          && !(c.getPackageName().equals("dev.keel.workflow.sdk")
                              || c.getPackageName().startsWith("dev.keel.workflow.sdk."))))
          .because("workflow authors compile against the SDK alone");

  @ArchTest
  static final ArchRule sdkDependsOnNoPekko =
      noClasses()
          .that()
          .resideInAPackage("dev.keel.workflow.sdk..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.apache.pekko..")
          .because("workflow code must not see the actor system it runs on");

  @ArchTest
  static final ArchRule clientDependsOnNoOtherKeelCode =
      noClasses()
          .that()
          .resideInAPackage("dev.keel.client..")
          .should()
          .dependOnClassesThat(
              com.tngtech.archunit.base.DescribedPredicate.describe(
                  "reside in dev.keel.. outside dev.keel.client..",
                  (com.tngtech.archunit.core.domain.JavaClass c) ->
                      c.getPackageName().startsWith("dev.keel.")
                          && !(c.getPackageName().equals("dev.keel.client")
                              || c.getPackageName().startsWith("dev.keel.client."))))
          .because(
              "services embed the client: it must not drag the server in (ARCHITECTURE.md,"
                  + " modules)");

  @ArchTest
  static final ArchRule clientDependsOnNoPekko =
      noClasses()
          .that()
          .resideInAPackage("dev.keel.client..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("org.apache.pekko..", "scala..", "com.typesafe..")
          .because("the client is the JDK's HttpClient and Jackson, nothing else");

  @ArchTest
  static final ArchRule cliTalksToKeelOnlyThroughTheClient =
      noClasses()
          .that()
          .resideInAPackage("dev.keel.cli..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "dev.keel.http..",
              "dev.keel.node..",
              "dev.keel.workflow..",
              "dev.keel.registry..",
              "dev.keel.tenant..",
              "dev.keel.persistence..",
              "org.apache.pekko..")
          .because("the command line is a client of the HTTP API like any other");

  @ArchTest
  static final ArchRule httpReachesEntitiesOnlyThroughFaçades =
      noClasses()
          .that()
          .resideInAPackage("dev.keel.http..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.apache.pekko.persistence..")
          .because("routes ask façades; journals and persistent behaviors are theirs");

  @ArchTest
  static final ArchRule noPackageCycles =
      slices()
          .matching("dev.keel.(**)")
          .should()
          .beFreeOfCycles()
          .because("a package that needs another which needs it back is one package in two places");

  @ArchTest
  static final ArchRule httpKnowsNothingOfTheNodeOrTheCommandLine =
      noClasses()
          .that()
          .resideInAPackage("dev.keel.http..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "dev.keel.node..", "dev.keel.command..", "dev.keel.cli..", "dev.keel.pipeline..")
          .because("the node hands the routes their façades, not the other way round");

  @ArchTest
  static final ArchRule nodeKnowsNothingOfTheCommandLine =
      noClasses()
          .that()
          .resideInAPackage("dev.keel.node..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("dev.keel.command..", "dev.keel.cli..", "dev.keel.pipeline..")
          .because(
              "a node is started by the command line, by keel run or by a test, and knows none of"
                  + " them");
}
